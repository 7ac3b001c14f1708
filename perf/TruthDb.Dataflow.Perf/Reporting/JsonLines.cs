using System.Text.Json;
using TruthDb.Dataflow.Perf.Workload;

namespace TruthDb.Dataflow.Perf.Reporting;

/// <summary>
/// One JSON object per line, appended to a file: <c>"kind":"run"</c> for every run,
/// <c>"kind":"failure"</c> for every run that failed or hung, <c>"kind":"summary"</c> for every
/// median row, <c>"kind":"probe"</c> for disk probes. Every line
/// carries the session id and the machine facts, so lines from many sessions can share a file.
/// </summary>
internal sealed class JsonLines(string path, string session, MachineInfo machine) : IDisposable
{
    private readonly StreamWriter _output = new(path, append: true);

    public void Write(RunResult r) => WriteLine(w =>
    {
        WriteRun(w, "run", r.Spec);
        w.WriteNumber("records", r.Records);
        w.WriteNumber("seconds", r.Seconds);
        w.WriteNumber("records_per_second", r.RecordsPerSecond);
        w.WriteNumber("p50_us", r.P50Micros);
        w.WriteNumber("p99_us", r.P99Micros);
        w.WriteNumber("p999_us", r.P999Micros);
        w.WriteNumber("max_us", r.MaxMicros);
        w.WriteNumber("mean_us", r.MeanMicros);
        w.WriteNumber("allocated_bytes_per_record", r.AllocatedBytesPerRecord);
        w.WriteNumber("cpu_us_per_record", r.CpuMicrosPerRecord);
        if (r.Counters is { } c)
        {
            w.WriteNumber("appends", c.Appends);
            w.WriteNumber("batches", c.Batches);
            w.WriteNumber("syncs", c.Syncs);
            w.WriteNumber("sync_seconds", c.SyncTime.TotalSeconds);
        }

        Optional(w, "average_batch", r.AverageBatch);
        Optional(w, "syncs_per_second", r.SyncsPerSecond);
        Optional(w, "average_sync_us", r.AverageSyncMicros);
        w.WriteString("problem", r.Problem);
    });

    public void Write(RunFailure f) => WriteLine(w =>
    {
        WriteRun(w, "failure", f.Spec);
        w.WriteBoolean("hung", f.Hung);
        w.WriteString("reason", f.Reason);
    });

    public void Write(Summary s) => WriteLine(w =>
    {
        w.WriteString("kind", "summary");
        WriteSpec(w, s.Spec);
        w.WriteNumber("runs", s.Runs);
        w.WriteNumber("failed_runs", s.Failures.Count);
        w.WriteNumber("records_per_second", s.RecordsPerSecond);
        Optional(w, "ratio_to_truthdb", s.RatioToTruthDb);
        Optional(w, "ceiling_records_per_second", s.Ceiling);
        w.WriteString("note", s.Note);
        w.WriteNumber("p50_us", s.P50Micros);
        w.WriteNumber("p99_us", s.P99Micros);
        w.WriteNumber("p999_us", s.P999Micros);
        Optional(w, "average_batch", s.AverageBatch);
        Optional(w, "syncs_per_second", s.SyncsPerSecond);
        Optional(w, "average_sync_us", s.AverageSyncMicros);
        w.WriteNumber("allocated_bytes_per_record", s.AllocatedBytesPerRecord);
        w.WriteNumber("cpu_us_per_record", s.CpuMicrosPerRecord);
    });

    public void Write(DiskProbe.ProbeResult p) => WriteLine(w =>
    {
        w.WriteString("kind", "probe");
        w.WriteString("probe", p.Name);
        w.WriteNumber("write_bytes", p.WriteBytes);
        w.WriteNumber("operations", p.Operations);
        w.WriteNumber("syncs", p.Syncs);
        w.WriteNumber("seconds", p.Seconds);
        w.WriteNumber("operations_per_second", p.OperationsPerSecond);
        w.WriteNumber("megabytes_per_second", p.MegabytesPerSecond);
        w.WriteNumber("p50_us", p.P50Micros);
        w.WriteNumber("p99_us", p.P99Micros);
    });

    public void Write(TailResult t) => WriteLine(w =>
    {
        w.WriteString("kind", "tail");
        w.WriteString("engine", t.Engine);
        w.WriteString("follower", t.Follower);
        w.WriteString("durability", t.Durability == Durability.Sync ? "sync" : "written");
        w.WriteNumber("record_size", t.RecordSize);
        w.WriteNumber("producers", t.Producers);
        w.WriteNumber("records", t.Records);
        w.WriteNumber("records_per_second", t.RecordsPerSecond);
        if (double.IsNaN(t.AckToFollowerP50Micros))
        {
            // Nobody followed: the writer alone.
            return;
        }

        w.WriteNumber("ack_to_follower_p50_us", t.AckToFollowerP50Micros);
        w.WriteNumber("ack_to_follower_p99_us", t.AckToFollowerP99Micros);
        w.WriteNumber("ack_to_follower_p999_us", t.AckToFollowerP999Micros);
        w.WriteNumber("call_to_follower_p50_us", t.CallToFollowerP50Micros);
        w.WriteNumber("call_to_follower_p99_us", t.CallToFollowerP99Micros);
        w.WriteNumber("follower_first_fraction", t.FollowerFirstFraction);
    });

    public void Write(ScanResult s, string engine) => WriteLine(w =>
    {
        w.WriteString("kind", "scan");
        w.WriteString("engine", engine);
        w.WriteNumber("record_size", s.RecordSize);
        w.WriteNumber("records", s.Records);
        w.WriteNumber("payload_bytes", s.PayloadBytes);
        w.WriteNumber("seconds", s.Seconds);
        w.WriteNumber("records_per_second", s.RecordsPerSecond);
        w.WriteNumber("payload_gigabytes_per_second", s.PayloadGigabytesPerSecond);
    });

    public void Write(RecoveryResult r, string engine) => WriteLine(w =>
    {
        w.WriteString("kind", "recovery");
        w.WriteString("engine", engine);
        w.WriteNumber("record_size", r.RecordSize);
        w.WriteNumber("payload_mebibytes", r.Mebibytes);
        w.WriteNumber("segments", r.Segments);
        w.WriteNumber("last_lsn", r.LastLsn);
        w.WriteNumber("unclean_open_ms", r.UncleanOpenMillis);
        w.WriteNumber("clean_open_ms", r.CleanOpenMillis);
    });

    public void Dispose() => _output.Dispose();

    // The start of a line about one run: its kind, configuration and repeat.
    private static void WriteRun(Utf8JsonWriter w, string kind, RunSpec spec)
    {
        w.WriteString("kind", kind);
        WriteSpec(w, spec);
        w.WriteNumber("repeat", spec.Repeat);
    }

    private static void WriteSpec(Utf8JsonWriter w, RunSpec spec)
    {
        w.WriteString("engine", spec.Engine);
        w.WriteString("durability", ConsoleTable.Name(spec.Durability));
        w.WriteNumber("record_size", spec.RecordSize);
        w.WriteNumber("producers", spec.Producers);
        w.WriteNumber("records_per_call", spec.Batch);
        w.WriteNumber("warmup_seconds", spec.Warmup.TotalSeconds);
    }

    private static void Optional(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private void WriteLine(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("session", session);
            w.WriteString("time", DateTimeOffset.UtcNow);
            body(w);
            w.WriteStartObject("machine");
            w.WriteNumber("processors", machine.Processors);
            w.WriteNumber("memory_bytes", machine.MemoryBytes);
            w.WriteString("os", machine.OperatingSystem);
            w.WriteString("runtime", machine.Runtime);
            w.WriteString("filesystem", machine.FileSystem);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        _output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        _output.Flush();
    }
}
