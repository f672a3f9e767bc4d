// Loads a trace into the Perfetto UI this page is (its trace processor, the
// WebAssembly build ui.perfetto.dev runs) and reads back what its JSON
// importer made of it, through the UI's own engine. Called with the trace's
// text; returns {warnings, tracks, counter, flows, slice_count}, times in µs.
async (trace) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (what, ready) => {
    for (let i = 0; i < 1200 && !ready(); i++) await sleep(100);
    if (!ready()) throw new Error(`${what}: ${document.body.innerText.slice(0, 500)}`);
  };
  await until("the UI did not start", () => window.app);
  const buffer = new TextEncoder().encode(trace).buffer;
  app.openTraceFromBuffer({ buffer, title: "ggninja trace", fileName: "trace.json" });
  // The UI's bookmarklet plugin points window.ctx at the trace once loaded;
  // a trace the importer refuses ends the loading without it.
  const loaded = () => window.ctx && window.ctx.engine;
  await until("the trace did not start loading", () => app.isLoadingTrace || loaded());
  await until("the trace is still loading", () => !app.isLoadingTrace);
  if (!loaded()) throw new Error(`the trace did not load: ${document.body.innerText.slice(0, 500)}`);
  const query = async (sql) => {
    const result = await ctx.engine.query(sql);
    const rows = [];
    for (const it = result.iter({}); it.valid(); it.next()) {
      const row = {};
      for (const c of result.columns()) {
        const v = it.get(c);
        row[c] = typeof v === "bigint" ? Number(v) : v;
      }
      rows.push(row);
    }
    return rows;
  };
  const us = (ns) => ns / 1000;
  const warnings = (await query(
    "select name, idx, severity, value from stats " +
      "where value > 0 and severity in ('error', 'data_loss')",
  )).map((s) => `${s.name}[${s.idx}] = ${s.value} (${s.severity})`);
  const args = {};
  for (const a of await query(
    "select arg_set_id as id, key, display_value as value from args " +
      "where arg_set_id in (select arg_set_id from slice) and key glob 'args.*'",
  )) {
    (args[a.id] ??= {})[a.key.slice("args.".length)] = a.value;
  }
  const tracks = {};
  for (const s of await query(
    "select t.name as track, s.name, s.ts, s.dur, s.category, s.arg_set_id from slice s " +
      "join thread_track tt on s.track_id = tt.id join thread t using (utid) order by s.ts",
  )) {
    (tracks[s.track] ??= []).push({
      name: s.name, ts: us(s.ts), dur: us(s.dur), category: s.category,
      args: args[s.arg_set_id] ?? {},
    });
  }
  const counter = (await query(
    "select t.name, c.ts, c.value from counter c " +
      "join counter_track t on c.track_id = t.id order by c.ts",
  )).map((c) => [c.name, us(c.ts), c.value]);
  const flows = (await query(
    "select o.name as out_name, i.name as in_name from flow f " +
      "join slice o on o.id = f.slice_out join slice i on i.id = f.slice_in order by o.ts",
  )).map((f) => [f.out_name, f.in_name]);
  const [{ n }] = await query("select count(*) as n from slice");
  return { warnings, tracks, counter, flows, slice_count: n };
}
