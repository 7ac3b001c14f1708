using BenchmarkDotNet.Attributes;
using TruthDb.Dataflow.Format;

namespace TruthDb.Dataflow.Benchmarks;

/// <summary>
/// The frame codec the writer and the readers run per record (the engine's own
/// <c>Format/FrameCodec.cs</c> and <c>Format/Crc32C.cs</c>, compiled in): CRC-32C alone, encoding
/// one frame, encoding a batch of frames into one buffer as the writer does, and decoding a frame.
/// None of these should allocate.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private const uint Seed = 0x5EED_1234;
    private const int BatchRecords = 64;
    private byte[] _payload = [];
    private byte[] _frame = [];
    private byte[] _batch = [];

    [Params(128, 4096)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[PayloadSize];
        new Random(42).NextBytes(_payload);
        _frame = new byte[FrameCodec.FrameLength(PayloadSize)];
        FrameCodec.Encode(_frame, Seed, 1, 0, _payload);
        _batch = new byte[FrameCodec.FrameLength(PayloadSize) * BatchRecords];
    }

    [Benchmark]
    public uint Crc32COfPayload() => Crc32C.Compute(_payload);

    [Benchmark]
    public int EncodeFrame() => FrameCodec.Encode(_frame, Seed, 1, 0, _payload);

    [Benchmark(OperationsPerInvoke = BatchRecords)]
    public int EncodeBatchOf64()
    {
        var position = 0;
        for (var i = 0; i < BatchRecords; i++)
        {
            position += FrameCodec.Encode(_batch.AsSpan(position), Seed, i + 1, 0, _payload);
        }

        return position;
    }

    [Benchmark]
    public int DecodeFrame()
    {
        var status = FrameCodec.TryDecode(_frame, _frame.Length, Seed, 1, out var frame);
        return status == FrameStatus.Success ? frame.PayloadLength : -1;
    }
}
