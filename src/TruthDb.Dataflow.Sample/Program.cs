// The sample a newcomer runs first: opens a log in a local directory, appends from many producers
// concurrently with Sync durability (every acknowledged record survives a power loss), reopens the
// log (running recovery) and reads every record back, checking each byte.
//
// Usage: dotnet run --project src/TruthDb.Dataflow.Sample -c Release -- [directory] [producers] [recordsPerProducer] [recordSize]
using System.Diagnostics;
using System.Globalization;
using TruthDb.Dataflow;

var directory = args.Length > 0 ? args[0] : Path.Combine("data", "sample");
var producers = ParseArg(args, 1, 64, "producers");
var perProducer = ParseArg(args, 2, 2_000, "recordsPerProducer");
var recordSize = ParseArg(args, 3, 128, "recordSize");
if (producers is null || perProducer is null || recordSize is null)
{
    return 2;
}

var options = new WalOptions { Directory = directory, Durability = Durability.Sync };
Console.WriteLine($"Opening the log in '{Path.GetFullPath(directory)}' (Durability = Sync)...");
long firstNew;
var total = (long)producers.Value * perProducer.Value;
await using (var wal = await Wal.OpenAsync(options))
{
    firstNew = wal.WrittenLsn + 1;
    Console.WriteLine($"Recovered {wal.WrittenLsn} existing record(s). Appending {total:N0} records of {recordSize} bytes from {producers} concurrent producers...");
    var stopwatch = Stopwatch.StartNew();
    var tasks = new Task[producers.Value];
    for (var p = 0; p < producers.Value; p++)
    {
        var producer = p;
        tasks[p] = Task.Run(async () =>
        {
            var payload = new byte[recordSize.Value];
            for (var i = 0; i < perProducer.Value; i++)
            {
                Fill(payload, producer, i);
                await wal.AppendAsync(payload);
            }
        });
    }

    await Task.WhenAll(tasks);
    stopwatch.Stop();
    var stats = wal.GetStatistics();
    Console.WriteLine($"Appended and synced {total:N0} records in {stopwatch.Elapsed.TotalSeconds:F2} s: {total / stopwatch.Elapsed.TotalSeconds:N0} durable records/s.");
    Console.WriteLine($"  {stats.Batches:N0} batches (average {(double)stats.Appends / Math.Max(1, stats.Batches):F1} records each), {stats.Syncs:N0} fdatasyncs averaging {stats.SyncTime.TotalMicroseconds / Math.Max(1, stats.Syncs):F0} µs, {stats.Segments} segment(s).");
    Console.WriteLine($"  Written LSN {wal.WrittenLsn}, durable LSN {wal.DurableLsn}.");
}

Console.WriteLine("Closed. Reopening and reading everything back...");
await using (var wal = await Wal.OpenAsync(options))
{
    long count = 0, checkedNew = 0, bytes = 0;
    var expected = new byte[recordSize.Value];
    var seen = new Dictionary<(int Producer, int Sequence), long>();
    await foreach (var record in wal.ReadAsync(0))
    {
        count++;
        bytes += record.Payload.Length;
        if (record.Lsn >= firstNew)
        {
            var span = record.Payload.Span;
            var producer = BitConverter.ToInt32(span);
            var sequence = BitConverter.ToInt32(span[4..]);
            Fill(expected, producer, sequence);
            if (!span.SequenceEqual(expected) || !seen.TryAdd((producer, sequence), record.Lsn))
            {
                Console.Error.WriteLine($"Record {record.Lsn} is not the payload that was appended.");
                return 1;
            }

            checkedNew++;
        }
    }

    Console.WriteLine($"Read {count:N0} records ({bytes:N0} payload bytes), LSNs {wal.FirstLsn} to {wal.DurableLsn}; all {checkedNew:N0} new records are byte-exact.");
    return checkedNew == total ? 0 : 1;
}

static int? ParseArg(string[] args, int index, int fallback, string name)
{
    if (args.Length <= index)
    {
        return fallback;
    }

    if (int.TryParse(args[index], NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
    {
        return value;
    }

    Console.Error.WriteLine($"{name} must be a positive whole number, not '{args[index]}'.");
    return null;
}

static void Fill(byte[] payload, int producer, int sequence)
{
    BitConverter.TryWriteBytes(payload, producer);
    BitConverter.TryWriteBytes(payload.AsSpan(4), sequence);
    for (var i = 8; i < payload.Length; i++)
    {
        payload[i] = (byte)(producer + sequence + i);
    }
}
