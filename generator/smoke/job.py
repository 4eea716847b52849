"""``--job``: a tiny stateful streaming job that must complete a checkpoint.

The PyFlink wheels carry no Java example jar, and a PyFlink (Python) job needs PyFlink's full
Python dependencies (Apache Beam, pyarrow, ...), so the job is a single Java class compiled on the
spot with ``javac`` against ``lib/flink-dist-*.jar`` and submitted through the JobManager's REST
API (``/jars/upload``, ``/jars/<id>/run``): no extra client JVM. It generates 100 numbers per
second, keeps a running sum per key (keyed state in the configured state backend, e.g. RocksDB)
and discards the result; checkpoints every second (no minimum pause: the configured one also delays
the first checkpoint) into the configured (local) checkpoint folder. Its arguments (``--lifecycle``,
``--faults``): the checkpoint interval in ms, the records after which it fails on purpose (-1:
never), the job name, the milliseconds each record is held before the sink (0: none) and the
records per second (100). Every
operator has a uid, so it also runs where ``pipeline.auto-generate-uids`` is false, and restores
from its own savepoints.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.flink import distribution
from generator.smoke import http

__all__ = [
    "ENTRY_CLASS",
    "JAVA_SOURCE",
    "JobError",
    "build_jar",
    "cancel",
    "checkpoint_counts",
    "savepoint",
    "savepoint_status",
    "submit",
    "taskmanager_of",
]

ENTRY_CLASS = "GenSmokeJob"
CHECKPOINT_INTERVAL_MS = 1000
JAVA_SOURCE = f"""\
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.ReduceFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/** gen smoke: generate, keep a sum per key, discard; checkpoint every second (args: interval ms,
 * records before an injected failure or -1, job name, ms each sum is held before the sink or 0,
 * records per second). */
public class {ENTRY_CLASS} {{
    /** Fails every attempt of the job after a number of records (a job that keeps failing). */
    public static class Fail implements MapFunction<Long, Long> {{
        private final long after;
        private long seen;

        public Fail(long after) {{
            this.after = after;
        }}

        @Override
        public Long map(Long value) {{
            if (++seen > after) {{
                throw new IllegalStateException("gen smoke: the failure injected by --faults");
            }}
            return value;
        }}
    }}

    /** Holds every record for a while: a sink slower than the input (backpressure upstream). */
    public static class Slow implements MapFunction<Long, Long> {{
        private final long millis;

        public Slow(long millis) {{
            this.millis = millis;
        }}

        @Override
        public Long map(Long value) throws Exception {{
            Thread.sleep(millis);
            return value;
        }}
    }}

    public static void main(String[] args) throws Exception {{
        long interval = args.length > 0 ? Long.parseLong(args[0]) : {CHECKPOINT_INTERVAL_MS}L;
        long failAfter = args.length > 1 ? Long.parseLong(args[1]) : -1L;
        String name = args.length > 2 ? args[2] : "gen-smoke";
        long slowMillis = args.length > 3 ? Long.parseLong(args[3]) : 0L;
        int rate = args.length > 4 ? Integer.parseInt(args[4]) : 100;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(interval);
        // the configured min-pause (e.g. 30s) also delays the first checkpoint
        env.getCheckpointConfig().setMinPauseBetweenCheckpoints(0L);
        env.setParallelism(1);
        GeneratorFunction<Long, Long> identity = index -> index;
        DataGeneratorSource<Long> source =
                new DataGeneratorSource<>(identity, Long.MAX_VALUE, RateLimiterStrategy.perSecond(rate), Types.LONG);
        KeySelector<Long, Long> byKey = value -> value % 16;
        ReduceFunction<Long> sum = (a, b) -> a + b;
        DataStream<Long> numbers =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "gen-smoke-source").uid("gen-smoke-source");
        if (failAfter >= 0) {{
            numbers = numbers.map(new Fail(failAfter)).uid("gen-smoke-fail");
        }}
        DataStream<Long> sums = numbers.keyBy(byKey, Types.LONG).reduce(sum).uid("gen-smoke-sum");
        if (slowMillis > 0) {{
            sums = sums.map(new Slow(slowMillis)).uid("gen-smoke-slow");
        }}
        sums
                .sinkTo(new DiscardingSink<>())
                .uid("gen-smoke-sink");
        env.execute(name);
    }}
}}
"""


class JobError(Exception):
    """The job could not be built, submitted or run; the message says what happened."""


@dataclass(frozen=True)
class CheckpointCounts:
    completed: int
    failed: int
    in_progress: int
    latest_path: str | None
    restored_from: str | None = None  # the savepoint or checkpoint the job restored, if any


def build_jar(javac: str, flink_home: Path, folder: Path, timeout: float = 120.0) -> Path:
    """Compile the job and pack it into ``folder/gen-smoke-job.jar``."""
    dist = distribution.flink_dist_jar(flink_home)
    if dist is None:
        raise JobError(f"{flink_home} has no lib/flink-dist-*.jar to compile against")
    src, classes = folder / "src", folder / "classes"
    src.mkdir(parents=True, exist_ok=True)
    classes.mkdir(parents=True, exist_ok=True)
    source = src / f"{ENTRY_CLASS}.java"
    source.write_text(JAVA_SOURCE, encoding="utf-8")
    argv = [javac, "--release", "11", "-nowarn", "-cp", str(dist), "-d", str(classes), str(source)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise JobError(f"javac took longer than {timeout:.0f}s") from None
    if done.returncode != 0:
        raise JobError(f"javac failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[:2000]}")
    jar = folder / "gen-smoke-job.jar"
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nMain-Class: {ENTRY_CLASS}\n\n")
        for path in sorted(classes.rglob("*.class")):
            archive.write(path, path.relative_to(classes).as_posix())
    return jar


def submit(rest: str, jar: Path, args: tuple[str, ...] = (), savepoint: str | None = None) -> str:
    """Upload and run the jar (with program arguments, restored from ``savepoint``); the job id."""
    try:
        uploaded = http.post_file(
            f"{rest}/jars/upload", "jarfile", jar.name, jar.read_bytes(), "application/x-java-archive"
        )
        jar_id = Path(str(uploaded.get("filename", ""))).name
        if not jar_id:
            raise JobError(f"the JobManager did not accept the jar: {uploaded}")
    except http.HttpError as exc:
        raise JobError(f"submitting the job failed: {exc} {_errors(exc.body)}".strip()) from None
    body: dict[str, Any] = {"entryClass": ENTRY_CLASS, "parallelism": 1, "programArgsList": list(args)}
    if savepoint:
        body["savepointPath"] = savepoint
    return _post_for(f"{rest}/jars/{jar_id}/run", body, 60.0, "jobid", "submitting the job", "start the job")


def _post_for(url: str, body: dict[str, Any], timeout: float, key: str, doing: str, refused: str) -> str:
    """POST ``body`` and return the answer's ``key``; a JobError saying what failed otherwise."""
    try:
        answer = http.request_json("POST", url, body, timeout=timeout)
    except http.HttpError as exc:
        raise JobError(f"{doing} failed: {exc} {_errors(exc.body)}".strip()) from None
    found = answer.get(key) if isinstance(answer, dict) else None
    if not found:
        raise JobError(f"the JobManager did not {refused}: {answer}")
    return str(found)


def _errors(body: str) -> str:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return body[:1000]
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list):
        # Flink puts the whole stack trace in the error text; the first line of each is the message
        return "; ".join(str(e).strip().splitlines()[0] for e in errors if str(e).strip())[:2000]
    return body[:1000]


def job_state(rest: str, job_id: str) -> str:
    answer = http.get_json(f"{rest}/jobs/{job_id}")
    return str(answer.get("state", "UNKNOWN")) if isinstance(answer, dict) else "UNKNOWN"


def root_exception(rest: str, job_id: str) -> str | None:
    """The job's latest failure as Flink reports it (first line), or None."""
    try:
        answer = http.get_json(f"{rest}/jobs/{job_id}/exceptions")
    except http.HttpError:
        return None
    if not isinstance(answer, dict):
        return None
    history = (
        answer.get("exceptionHistory", {}).get("entries", [])
        if isinstance(answer.get("exceptionHistory"), dict)
        else []
    )
    text = history[0].get("stacktrace") if history else answer.get("root-exception")
    return str(text).strip().splitlines()[0] if text else None


def checkpoint_counts(rest: str, job_id: str) -> CheckpointCounts:
    answer = http.get_json(f"{rest}/jobs/{job_id}/checkpoints")
    counts = answer.get("counts", {}) if isinstance(answer, dict) else {}
    latest_all = (answer.get("latest", {}) or {}) if isinstance(answer, dict) else {}
    latest = latest_all.get("completed")
    restored = latest_all.get("restored")
    return CheckpointCounts(
        completed=int(counts.get("completed", 0)),
        failed=int(counts.get("failed", 0)),
        in_progress=int(counts.get("in_progress", 0)),
        latest_path=str(latest.get("external_path")) if isinstance(latest, dict) else None,
        restored_from=str(restored.get("external_path")) if isinstance(restored, dict) else None,
    )


def savepoint(rest: str, job_id: str, folder: str, stop: bool = False) -> str:
    """Trigger a savepoint (``stop``: stop the job with it); the trigger id."""
    path = f"{rest}/jobs/{job_id}/stop" if stop else f"{rest}/jobs/{job_id}/savepoints"
    # the two request bodies spell the folder differently (Flink REST API: SavepointTriggerRequestBody,
    # StopWithSavepointRequestBody)
    if stop:
        body: dict[str, Any] = {"targetDirectory": folder, "formatType": "CANONICAL", "drain": False}
    else:
        body = {"target-directory": folder, "formatType": "CANONICAL", "cancel-job": False}
    return _post_for(path, body, 30.0, "request-id", "triggering the savepoint", "trigger the savepoint")


def savepoint_status(rest: str, job_id: str, trigger: str) -> tuple[bool, str | None, str | None]:
    """(done, savepoint path, failure) of a triggered savepoint."""
    answer = http.get_json(f"{rest}/jobs/{job_id}/savepoints/{trigger}")
    if not isinstance(answer, dict) or (answer.get("status") or {}).get("id") != "COMPLETED":
        return False, None, None
    operation = answer.get("operation") or {}
    failure = operation.get("failure-cause")
    if failure:
        text = str(failure.get("stack-trace") or failure.get("class") or failure)
        return True, None, text.strip().splitlines()[0]
    return True, str(operation.get("location")), None


def taskmanager_of(rest: str, job_id: str) -> list[str]:
    """The ids of the TaskManagers that run the job's tasks."""
    answer = http.get_json(f"{rest}/jobs/{job_id}")
    ids: set[str] = set()
    for vertex in answer.get("vertices", []) if isinstance(answer, dict) else []:
        listing = http.get_json(f"{rest}/jobs/{job_id}/vertices/{vertex['id']}/taskmanagers")
        for tm in listing.get("taskmanagers", []) if isinstance(listing, dict) else []:
            ids.add(str(tm.get("taskmanager-id") or tm.get("resource-id") or ""))
    return sorted(i for i in ids if i)


def cancel(rest: str, job_id: str) -> None:
    with contextlib.suppress(http.HttpError):  # the cluster is stopped right after anyway
        http.request_json("PATCH", f"{rest}/jobs/{job_id}?mode=cancel", timeout=5.0)
