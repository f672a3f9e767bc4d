use super::*;

/// Runs `command` alone through a `Runner`, its output as `streams` says.
fn run(command: &str, streams: Streams) -> Finished<u32> {
    let mut runner = Runner::default();
    runner.start(7, shell(command), streams).unwrap();
    let finished = runner.wait().expect("the command finishes");
    assert_eq!(runner.running(), 0);
    finished
}

#[test]
fn merged_streams_are_one_output_in_order() {
    let f = run("echo out; echo err >&2; echo out2", Streams::Merged);
    assert_eq!((f.token, f.exit), (7, Exit::Success));
    assert_eq!(f.output, b"out\nerr\nout2\n");
    assert!(f.errors.is_empty());
}

#[test]
fn apart_streams_keep_stderr_to_itself() {
    let f = run("echo out; echo err >&2; echo out2; exit 3", Streams::Apart);
    assert_eq!(f.exit, Exit::Failure(3));
    assert_eq!(f.output, b"out\nout2\n");
    assert_eq!(f.errors, b"err\n");
}

#[test]
fn apart_streams_both_larger_than_a_pipe_do_not_block() {
    // Each stream more than a pipe holds: both must be read as they fill.
    let line = "a line long enough for 3000 of them to fill a pipe";
    let command = format!(
        "i=0; while [ $i -lt 3000 ]; do echo '{line}'; echo '{line}' >&2; i=$((i+1)); done"
    );
    let f = run(&command, Streams::Apart);
    assert_eq!(f.exit, Exit::Success);
    let expected = format!("{line}\n").repeat(3000).into_bytes();
    assert!(f.output == expected && f.errors == expected);
}

#[test]
fn a_stream_closed_early_waits_for_the_other() {
    let f = run("exec 2>&-; sleep 0.1; echo late", Streams::Apart);
    assert_eq!(f.exit, Exit::Success);
    assert_eq!(f.output, b"late\n");
}
