using System.Diagnostics;
using System.Globalization;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Tests.Support;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace TruthDb.Dataflow.Tests.Recovery;

/// <summary>
/// The SIGKILL crash test: a child process appends with <see cref="Durability.Sync"/> (or
/// <see cref="Durability.Written"/>, whose acknowledged records are in the OS and survive a process
/// kill too, with the flusher thread syncing every 2 ms while the writer writes and rolls) and reports
/// each acknowledged LSN; it is killed with SIGKILL at random moments, and after each kill every
/// acknowledged record must be present and intact.
/// </summary>
/// <remarks>
/// <para>
/// Switches (environment variables): <c>TRUTHDB_STRESS_ROUNDS</c> sets the number of kill rounds
/// (default 50, the CI run; stress runs set more). <c>TRUTHDB_STRESS_SEED</c> replays the kill
/// schedule of a failed run (its seed is in the failure message; the child's own timing still varies).
/// </para>
/// <para>
/// All rounds share one log, so it grows through every crash and rolls through many 64 KiB segments.
/// The child itself recovers the raw crashed log at the start of each round (and is sometimes killed
/// while doing so). The test checks a snapshot of the crashed log instead of opening it in place, so
/// its own recovery never tidies up what the next child has to deal with, and the two recoveries of
/// the same crash must agree: the child's <c>open</c> LSN is the last LSN the test recovered.
/// </para>
/// <para>
/// Checked after every kill: LSNs are dense from 1; every record is an intact child payload (never
/// garbage, also when it was not acknowledged); every LSN ever acknowledged is present and holds
/// exactly the payload of its (producer, sequence, length); the durable watermark after open covers
/// them all; and each producer's records of the round are its sequences 0, 1, 2… in LSN order, at
/// most one past its last reported ack (a producer appends the next record only after printing the
/// ack of the previous one).
/// </para>
/// </remarks>
public sealed class ProcessKillTests(ITestOutputHelper output)
{
    private const string RoundsVariable = "TRUTHDB_STRESS_ROUNDS";
    private const string SeedVariable = "TRUTHDB_STRESS_SEED";
    private const int DefaultRounds = 50;
    private const long SegmentSize = WalOptions.MinSegmentSize;
    private const int MaxAcks = 2000;
    private const int MaxProducers = 8;
    private const int SigKillExitCode = 128 + 9;

    private enum KillPoint
    {
        /// <summary>After a random number of acks (log-uniform from 1 to <see cref="MaxAcks"/>).</summary>
        AfterAcks,

        /// <summary>A few milliseconds after the log opened: often in the first batches or a roll.</summary>
        AfterDelay,

        /// <summary>
        /// At a random moment from process start, up to a bit past the time the last child took to open
        /// the log: in runtime start-up, in recovery, or in the first appends.
        /// </summary>
        DuringStartup,
    }

    [Theory]
    [InlineData(Durability.Sync)]
    [InlineData(Durability.Written)]
    public async Task SigKill_AtRandomMoments_EveryAcknowledgedRecordSurvives(Durability durability)
    {
        var rounds = Setting(RoundsVariable, DefaultRounds);
        var seed = Setting(SeedVariable, Random.Shared.Next());
        var random = new Random(seed);
        var directory = new TestDirectory();
        var log = Path.Combine(directory.Path, "log");
        var snapshot = Path.Combine(directory.Path, "snapshot");
        var acked = new Dictionary<long, ChildAck>();
        var points = new int[3];
        var killedBeforeOpen = 0;
        var timeToOpen = TimeSpan.FromMilliseconds(200);
        long lastLsn = 0;
        var started = Stopwatch.StartNew();
        for (var round = 1; round <= rounds; round++)
        {
            var plan = KillPlan.Draw(random);
            points[(int)plan.Point]++;
            try
            {
                var ct = Timeouts.Token();
                var child = await RunAndKillAsync(log, plan, durability, timeToOpen, ct);
                killedBeforeOpen += child.OpenLsn is null ? 1 : 0;
                timeToOpen = child.TimeToOpen ?? timeToOpen;
                TakeSnapshot(log, snapshot);
                lastLsn = await VerifyAsync(snapshot, child, acked, lastLsn, ct);
            }
            catch (Exception ex)
            {
                throw new XunitException(
                    $"SIGKILL round {round} of {rounds} ({durability}) failed (seed {seed}: replay with {SeedVariable}={seed}; {plan}; " +
                    $"the crashed log is kept in '{log}'): {ex.Message}{Environment.NewLine}{ex}");
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rounds} rounds ({durability}, seed {seed}) in {started.Elapsed.TotalSeconds:F1} s: {points[0]} killed after acks, {points[1]} after a delay, " +
            $"{points[2]} during start-up ({killedBeforeOpen} before the log opened); {lastLsn} records, {acked.Count} acknowledged, {Directory.GetFiles(log, "*" + SegmentNames.SegmentExtension).Length} segments."));
        directory.Dispose();
    }

    // Returns the child once it is dead and disposed: its parsed output (open LSN, acks) stays readable.
    private static async Task<CrashChild> RunAndKillAsync(string log, KillPlan plan, Durability durability, TimeSpan timeToOpen, CancellationToken ct)
    {
        var child = CrashChild.Start(log, plan.Producers, SegmentSize, plan.Point == KillPoint.AfterAcks ? plan.Acks : int.MaxValue, durability: durability);
        await using (child)
        {
            if (plan.Point != KillPoint.DuringStartup && !await child.Opened.WaitAsync(ct))
            {
                Assert.Fail("The child never opened the log: " + await child.DescribeEndAsync(ct));
            }

            if (plan.Point == KillPoint.AfterAcks && !await child.AcksReached.WaitAsync(ct))
            {
                Assert.Fail("The child stopped acknowledging: " + await child.DescribeEndAsync(ct));
            }

            // Not waits for an event: the delay is the (random) moment of the kill.
            if (plan.Point == KillPoint.AfterDelay)
            {
                await Task.Delay(plan.DelayMilliseconds, ct);
            }
            else if (plan.Point == KillPoint.DuringStartup)
            {
                await Task.Delay(timeToOpen * plan.StartupFraction, ct);
            }

            var exitCode = await child.KillAsync(ct);
            if (!OperatingSystem.IsWindows() && exitCode != SigKillExitCode)
            {
                Assert.Fail($"The child must die of SIGKILL (exit code {SigKillExitCode}), but it ended with {exitCode}: " + await child.DescribeEndAsync(ct));
            }

            Assert.True(child.UnexpectedLines.Count == 0, "The child printed unexpected lines: " + string.Join(" | ", child.UnexpectedLines));
            return child;
        }
    }

    /// <summary>
    /// Recovers the snapshot, reads every record, checks the invariants, and returns the last LSN.
    /// <paramref name="acked"/> gathers every acknowledgement of every round.
    /// </summary>
    private static async Task<long> VerifyAsync(string snapshot, CrashChild child, Dictionary<long, ChildAck> acked, long previousLast, CancellationToken ct)
    {
        if (child.OpenLsn is { } open)
        {
            Assert.True(open == previousLast,
                $"The child recovered the log to LSN {open}, but the test's recovery of the same crashed log ended at LSN {previousLast}.");
        }
        else
        {
            Assert.True(child.Acks.Count == 0, "The child acknowledged appends before it reported the open log.");
        }

        foreach (var ack in child.Acks)
        {
            Assert.True(ack.Lsn > previousLast, $"The child acknowledged LSN {ack.Lsn}, which the log already held before it started (last LSN {previousLast}).");
            Assert.True(acked.TryAdd(ack.Lsn, ack), $"LSN {ack.Lsn} was acknowledged twice: {acked.GetValueOrDefault(ack.Lsn)} and {ack}.");
        }

        var roundRecords = new List<(long Lsn, int Producer, int Sequence)>();
        long last;
        await using (var wal = await Wal.OpenAsync(new WalOptions { Directory = snapshot, SegmentSize = SegmentSize }, ct))
        {
            last = wal.DurableLsn;
            Assert.True(wal.WrittenLsn == last, $"After open, WrittenLsn ({wal.WrittenLsn}) must equal DurableLsn ({last}).");
            long expected = 1;
            await foreach (var record in wal.ReadAsync(0, null, ct))
            {
                Assert.True(record.Lsn == expected, $"LSNs must be dense from 1: read LSN {record.Lsn} where LSN {expected} belongs.");
                var payload = record.Payload.Span;
                if (!Payloads.IsIntact(payload, out var producer, out var sequence))
                {
                    Assert.Fail($"Record {record.Lsn} is not an intact child payload ({payload.Length} bytes; its header says producer {producer}, sequence {sequence}).");
                }

                if (acked.TryGetValue(record.Lsn, out var ack) && (ack.Producer, ack.Sequence, ack.Length) != (producer, sequence, payload.Length))
                {
                    Assert.Fail($"Record {record.Lsn} holds producer {producer}, sequence {sequence}, {payload.Length} bytes, but was acknowledged as {ack}.");
                }

                if (record.Lsn > previousLast)
                {
                    roundRecords.Add((record.Lsn, producer, sequence));
                }

                expected++;
            }

            Assert.True(expected - 1 == last, $"The read ended at LSN {expected - 1}, but the durable watermark after open is {last}.");
        }

        var missing = acked.Keys.Where(lsn => lsn > last).Order().ToList();
        Assert.True(missing.Count == 0,
            $"{missing.Count} acknowledged record(s) are missing: the log ends at LSN {last}, but LSNs {string.Join(", ", missing.Take(20))} were acknowledged (first: {(missing.Count > 0 ? acked[missing[0]] : default)}).");
        Assert.True(last >= previousLast, $"The log shrank from LSN {previousLast} to {last}.");
        Assert.True(child.OpenLsn is not null || last == previousLast, $"The child was killed before it opened the log, yet the log grew from LSN {previousLast} to {last}.");
        CheckProducers(roundRecords, child.Acks);
        return last;
    }

    /// <summary>
    /// Each producer appends sequence 0, 1, 2… and starts the next append only after printing the ack
    /// of the previous one: its records in this round are those sequences in LSN order, without gaps or
    /// repeats, ending at its last printed ack or one past it (appended, never reported).
    /// </summary>
    private static void CheckProducers(List<(long Lsn, int Producer, int Sequence)> records, IReadOnlyList<ChildAck> acks)
    {
        var next = new Dictionary<int, int>();
        foreach (var (lsn, producer, sequence) in records)
        {
            var expected = next.GetValueOrDefault(producer);
            Assert.True(sequence == expected, $"Record {lsn} is producer {producer}'s sequence {sequence}, but its next one should be {expected}: a producer's appends must land in call order, once each.");
            next[producer] = sequence + 1;
        }

        var lastAcked = new Dictionary<int, int>();
        foreach (var ack in acks)
        {
            lastAcked[ack.Producer] = Math.Max(ack.Sequence, lastAcked.GetValueOrDefault(ack.Producer, -1));
        }

        foreach (var (producer, count) in next)
        {
            var acknowledged = lastAcked.GetValueOrDefault(producer, -1);
            Assert.True(count - 1 <= acknowledged + 1,
                $"Producer {producer} has sequences up to {count - 1} in the log, but its last reported ack is sequence {acknowledged}: only one more can have been appended.");
        }
    }

    /// <summary>
    /// Copies the crashed log so the test can recover it without touching the original. Sealed segments
    /// (every segment but the last) are immutable, and opening reads them only: on Unix they are linked
    /// instead of copied, so a snapshot costs one segment no matter how long the log has grown.
    /// </summary>
    private static void TakeSnapshot(string log, string snapshot)
    {
        // A child killed early in start-up may not have created the directory yet: an empty log.
        Directory.CreateDirectory(log);
        if (Directory.Exists(snapshot))
        {
            Directory.Delete(snapshot, recursive: true);
        }

        Directory.CreateDirectory(snapshot);
        var segments = Directory.GetFiles(log, "*" + SegmentNames.SegmentExtension);
        Array.Sort(segments, StringComparer.Ordinal);
        var active = segments.Length > 0 ? segments[^1] : null;
        foreach (var path in Directory.GetFiles(log))
        {
            var target = Path.Combine(snapshot, Path.GetFileName(path));
            var isSealed = path != active && path.EndsWith(SegmentNames.SegmentExtension, StringComparison.Ordinal);
            if (isSealed && !OperatingSystem.IsWindows())
            {
                File.CreateSymbolicLink(target, path);
            }
            else
            {
                File.Copy(path, target);
            }
        }
    }

    private static int Setting(string variable, int defaultValue)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return defaultValue;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new InvalidOperationException($"{variable} is '{text}'; it must be a non-negative integer.");
    }

    private readonly record struct KillPlan(int Producers, KillPoint Point, int Acks, int DelayMilliseconds, double StartupFraction)
    {
        public static KillPlan Draw(Random random)
        {
            var producers = random.Next(1, MaxProducers + 1);
            return random.Next(10) switch
            {
                0 or 1 => new KillPlan(producers, KillPoint.DuringStartup, 0, 0, random.NextDouble() * 1.25),
                2 or 3 => new KillPlan(producers, KillPoint.AfterDelay, 0, random.Next(0, 20), 0),

                // Log-uniform, so few acks (kills in the first batches) are as likely as many (kills in a roll).
                _ => new KillPlan(producers, KillPoint.AfterAcks, (int)Math.Round(Math.Exp(random.NextDouble() * Math.Log(MaxAcks))), 0, 0),
            };
        }

        public override string ToString() => Point switch
        {
            KillPoint.AfterAcks => $"{Producers} producer(s), killed after {Acks} ack(s)",
            KillPoint.AfterDelay => $"{Producers} producer(s), killed {DelayMilliseconds} ms after open",
            _ => string.Create(CultureInfo.InvariantCulture, $"{Producers} producer(s), killed at {StartupFraction:P0} of the previous child's time to open"),
        };
    }
}
