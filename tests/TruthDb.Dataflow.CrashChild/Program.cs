// A child process for the SIGKILL tests: appends with Sync durability from several producers and
// prints "ack <lsn> <producer> <sequence> <length>" for every acknowledged append, flushed at once,
// until it is killed. Usage: CrashChild <directory> <producers> <segmentSize> [on-input|written]
// With on-input it appends one record (producer 0) per line read from stdin instead, and ends at the
// end of stdin: a writer in another process whose appends the test paces. With written the log runs
// Durability.Written with a 2 ms flush interval, so the flusher thread syncs all the time while the
// writer writes and rolls (an acknowledged record is in the OS: it survives the kill all the same).
// Payloads come from the test project's Payloads.Make (the same source file is compiled into both),
// so the tests check every record byte for byte against the very function that made it.
using System.Globalization;
using TruthDb.Dataflow;
using TruthDb.Dataflow.Tests.Support;

if (args.Length is not (3 or 4) || (args.Length == 4 && args[3] is not ("on-input" or "written")))
{
    Console.Error.WriteLine("usage: CrashChild <directory> <producers> <segmentSize> [on-input|written]");
    return 2;
}

var producers = int.Parse(args[1], CultureInfo.InvariantCulture);
var written = args.Length == 4 && args[3] == "written";
var options = new WalOptions
{
    Directory = args[0],
    SegmentSize = long.Parse(args[2], CultureInfo.InvariantCulture),
    Durability = written ? Durability.Written : Durability.Sync,
    FlushInterval = TimeSpan.FromMilliseconds(2),
};

await using var wal = await Wal.OpenAsync(options);
var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
var gate = new object();
lock (gate)
{
    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"open {wal.DurableLsn}"));
    output.Flush();
}

if (args.Length == 4 && !written)
{
    for (var sequence = 0; await Console.In.ReadLineAsync() is not null; sequence++)
    {
        var length = 12 + (sequence * 17 % 700);
        var lsn = await wal.AppendAsync(Payloads.Make(0, sequence, length));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {lsn} 0 {sequence} {length}"));
        output.Flush();
    }

    return 0;
}

var run = Guid.NewGuid().GetHashCode() & 0x7FFF;
var tasks = new Task[producers];
for (var p = 0; p < producers; p++)
{
    var producer = (run * 1000) + p;
    tasks[p] = Task.Run(async () =>
    {
        for (var sequence = 0; ; sequence++)
        {
            var length = 12 + ((producer * 31 + sequence * 17) % 700);
            var lsn = await wal.AppendAsync(Payloads.Make(producer, sequence, length));
            lock (gate)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {lsn} {producer} {sequence} {length}"));
                output.Flush();
            }
        }
    });
}

await Task.WhenAll(tasks);
return 0;
