// A child process for the SIGKILL tests: appends with Sync durability from several producers and
// prints "ack <lsn> <producer> <sequence> <length>" for every acknowledged append, flushed at once,
// until it is killed. Usage: CrashChild <directory> <producers> <segmentSize>
using System.Globalization;
using TruthDb.Dataflow;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: CrashChild <directory> <producers> <segmentSize>");
    return 2;
}

var producers = int.Parse(args[1], CultureInfo.InvariantCulture);
var options = new WalOptions
{
    Directory = args[0],
    SegmentSize = long.Parse(args[2], CultureInfo.InvariantCulture),
    Durability = Durability.Sync,
};

await using var wal = await Wal.OpenAsync(options);
var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
var gate = new object();
lock (gate)
{
    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"open {wal.DurableLsn}"));
    output.Flush();
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
            var lsn = await wal.AppendAsync(Payload(producer, sequence, length));
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

static byte[] Payload(int producer, int sequence, int length)
{
    var bytes = new byte[length];
    BitConverter.TryWriteBytes(bytes, producer);
    BitConverter.TryWriteBytes(bytes.AsSpan(4), sequence);
    BitConverter.TryWriteBytes(bytes.AsSpan(8), length);
    var state = (uint)(producer * 7919 + sequence * 104729 + 1);
    for (var i = 12; i < bytes.Length; i++)
    {
        state = state * 1664525 + 1013904223;
        bytes[i] = (byte)(state >> 24);
    }

    return bytes;
}
