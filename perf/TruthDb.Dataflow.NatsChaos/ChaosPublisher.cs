using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;

namespace TruthDb.Dataflow.NatsChaos;

/// <summary>
/// Publishes the numbers 1, 2, 3, ... (8 bytes little-endian at the start of each payload) into the
/// stream, many in flight, at most <c>rate</c> a second, and records for each number whether the
/// stream acknowledged it.
/// <para>Plain: no headers; each number is sent once and never again, acknowledged or not.</para>
/// <para>Msgid: as plain, with <c>Nats-Msg-Id</c> = the number (and no expectation).</para>
/// <para>Chained (<c>headers</c>): <c>Nats-Msg-Id</c> = the number and <c>Nats-Expected-Last-Msg-Id</c> =
/// the number before it; the first publish of an epoch carries <c>Nats-Expected-Last-Sequence</c> = the
/// stream's last sequence instead. On any refusal or missing acknowledgement the epoch ends: once the
/// publishes in flight are settled it reads the stream's last message and starts a new epoch after
/// it. When that last message is below the highest number already acknowledged, the stream has lost
/// acknowledged messages: counted as a regression, and the numbers after it are published again.</para>
/// </summary>
internal sealed class ChaosPublisher
{
    public const byte Sent = 1;
    public const byte Acked = 2;

    private readonly NatsConnection _connection;
    private readonly JetStreamApi _api;
    private readonly string _subject;
    private readonly bool _chained;
    private readonly bool _msgIds;
    private readonly double _rate;
    private readonly int _payloadSize;
    private readonly byte[] _state;
    private long _highestAcked;
    private long _published;
    private volatile bool _epochFailed;

    public ChaosPublisher(NatsConnection connection, JetStreamApi api, string subject, string kind, double rate, int payloadSize, long capacity)
    {
        _connection = connection;
        _api = api;
        _subject = subject;
        _chained = kind == "headers";
        _msgIds = kind is "headers" or "msgid";
        _rate = rate;
        _payloadSize = Math.Max(8, payloadSize);
        _state = new byte[capacity + 1];
    }

    /// <summary>Per number: 0 never sent, <see cref="Sent"/>, <see cref="Acked"/>.</summary>
    public ReadOnlySpan<byte> State => _state;

    public long Highest { get; private set; }

    public long HighestAcked => Interlocked.Read(ref _highestAcked);

    public int Epochs { get; private set; }

    public List<(long HighestAcked, long StreamLast)> Regressions { get; } = [];

    public long AckedCount { get; private set; }

    public long DuplicateAcks { get; private set; }

    public long Refusals { get; private set; }

    public long Timeouts { get; private set; }

    /// <summary>The first refusal of the last failed epoch, as the server worded it.</summary>
    public string LastRefusal { get; private set; } = string.Empty;

    public async Task RunAsync(int inFlight, CancellationToken stop)
    {
        // Acknowledged means: an acknowledgement came within 5 s (a later one is not counted).
        await using var pipe = new RequestPipe(_connection, inFlight, TimeSpan.FromSeconds(5));
        await pipe.StartAsync(CancellationToken.None);
        var clock = Stopwatch.StartNew();
        if (!_chained)
        {
            await EpochAsync(pipe, clock, 1, null, stop);
        }
        else
        {
            while (!stop.IsCancellationRequested)
            {
                long last;
                ulong lastSeq;
                try
                {
                    var message = await _api.LastBySubjectAsync(_subject, TimeSpan.FromSeconds(30), stop);
                    (last, lastSeq) = message is { } m ? (BinaryPrimitives.ReadInt64LittleEndian(m.Data), m.Seq) : (0, 0UL);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }

                Epochs++;
                if (last < HighestAcked)
                {
                    Regressions.Add((HighestAcked, last));
                    if (Regressions.Count <= 3)
                    {
                        var info = await _api.LedInfoAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
                        Console.WriteLine($"  epoch {Epochs}: the stream's last message (leader {info.Leader}; {ChaosRound.Replicas(info)}) is number {last} (sequence {lastSeq}), after refusal '{LastRefusal}', below the highest acknowledged {HighestAcked}{(Regressions.Count == 3 ? " (further ones counted, not shown)" : string.Empty)}");
                    }
                }

                await EpochAsync(pipe, clock, last + 1, lastSeq, stop);
            }
        }

        await pipe.WaitIdleAsync(CancellationToken.None);
    }

    private async Task EpochAsync(RequestPipe pipe, Stopwatch clock, long first, ulong? expectedLastSeq, CancellationToken stop)
    {
        _epochFailed = false;
        var payload = new byte[_payloadSize];
        for (var number = first; number < _state.Length && !stop.IsCancellationRequested && !_epochFailed; number++)
        {
            var due = _published / _rate;
            var wait = due - clock.Elapsed.TotalSeconds;
            if (wait > 0.002)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var headers = _msgIds ? new NatsHeaders { ["Nats-Msg-Id"] = number.ToString(CultureInfo.InvariantCulture) } : null;
            if (_chained && headers is not null)
            {
                if (number == first)
                {
                    headers["Nats-Expected-Last-Sequence"] = expectedLastSeq.GetValueOrDefault().ToString(CultureInfo.InvariantCulture);
                }
                else
                {
                    headers["Nats-Expected-Last-Msg-Id"] = (number - 1).ToString(CultureInfo.InvariantCulture);
                }
            }

            BinaryPrimitives.WriteInt64LittleEndian(payload, number);
            Task<Reply> reply;
            try
            {
                reply = await pipe.SendAsync(_subject, (byte[])payload.Clone(), headers, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            _published++;
            if (_state[number] == 0)
            {
                _state[number] = Sent;
            }

            Highest = Math.Max(Highest, number);
            _ = RecordAsync(number, reply);
        }

        await pipe.WaitIdleAsync(CancellationToken.None);
    }

    private async Task RecordAsync(long number, Task<Reply> pending)
    {
        var reply = await pending;
        lock (_state)
        {
            if (reply.TimedOut || reply.NoResponders || reply.Data is null)
            {
                Timeouts++;
                _epochFailed = _chained;
                return;
            }

            var data = reply.Data.AsSpan();
            if (data.IndexOf("\"error\""u8) >= 0 || data.IndexOf("\"seq\""u8) < 0)
            {
                Refusals++;
                if (!_epochFailed)
                {
                    LastRefusal = System.Text.Encoding.UTF8.GetString(data);
                }

                _epochFailed = _chained;
                return;
            }

            if (data.IndexOf("\"duplicate\":true"u8) >= 0)
            {
                DuplicateAcks++;
            }

            if (_state[number] != Acked)
            {
                _state[number] = Acked;
                AckedCount++;
            }

            if (number > _highestAcked)
            {
                Interlocked.Exchange(ref _highestAcked, number);
            }
        }
    }
}
