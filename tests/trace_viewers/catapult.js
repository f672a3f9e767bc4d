// Imports a trace with catapult's trace viewer (the viewer chrome://tracing
// served) in this page: `tr.importer.Import` into a `tr.Model`, as its
// "Load" button does, and reads back the model. Called with the trace's
// text; returns {warnings, tracks, counter, flows, slice_count}, times in µs.
async (trace) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 1200 && !(window.tr && tr.importer && tr.importer.Import); i++) {
    await sleep(100);
  }
  if (!(window.tr && tr.importer)) throw new Error("the trace viewer did not start");
  const model = new tr.Model();
  const options = new tr.importer.ImportOptions();
  // Our times as written: by default the viewer shifts the first event to 0,
  // and a build's first edge may start a millisecond in.
  options.shiftWorldToZero = false;
  new tr.importer.Import(model, options).importTraces([trace]);
  const us = (ms) => Math.round(ms * 1000);
  const warnings = model.importWarnings.map((w) => `${w.type}: ${w.message}`);
  const tracks = {};
  let slice_count = 0;
  for (const t of model.getAllThreads()) {
    tracks[t.name] = t.sliceGroup.slices.map((s) => ({
      name: s.title, ts: us(s.start), dur: us(s.duration), category: s.category,
      args: s.args,
    }));
    slice_count += t.sliceGroup.slices.length;
  }
  const counter = [];
  for (const p of Object.values(model.processes)) {
    for (const c of Object.values(p.counters)) {
      for (const series of c.series) {
        for (const s of series.samples) counter.push([`${c.id} ${series.name}`, us(s.timestamp), s.value]);
      }
    }
  }
  const flows = model.flowEvents.map((f) => [
    f.startSlice && f.startSlice.title, f.endSlice && f.endSlice.title,
  ]);
  return { warnings, tracks, counter, flows, slice_count };
}
