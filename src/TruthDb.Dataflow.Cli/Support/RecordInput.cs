using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// Records from a stream, in one of two framings:
/// <list type="bullet">
/// <item>lines (the default): one record per line, split at LF bytes; a CR before the LF is dropped;
/// the bytes are taken as they are (no decoding), so any byte except LF can be in a record; a last
/// line without a terminator is a record, an empty input holds none.</item>
/// <item>binary (<c>--binary</c>): each record is a 4-byte little-endian unsigned length followed by
/// that many bytes, back to back, nothing between records; the input must end exactly after a record.</item>
/// </list>
/// </summary>
internal static class RecordInput
{
    /// <summary>The largest record the binary framing accepts (the engine caps payloads below 2 GiB).</summary>
    public const long MaxBinaryLength = int.MaxValue - 64;

    /// <summary>Reads the records of <paramref name="stream"/>; <paramref name="source"/> names it in error messages.</summary>
    public static async IAsyncEnumerable<byte[]> ReadAsync(Stream stream, bool binary, string source, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        long consumedBytes = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(ct);
                var buffer = result.Buffer;
                var records = new List<byte[]>();
                var consumed = binary ? TakeBinary(ref buffer, records) : TakeLines(ref buffer, records, result.IsCompleted);
                consumedBytes += consumed;
                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var record in records)
                {
                    yield return record;
                }

                if (result.IsCompleted)
                {
                    if (binary && !buffer.IsEmpty)
                    {
                        throw new CliException(
                            $"{source} ends inside a binary record: {buffer.Length} byte(s) left at byte offset {consumedBytes}, short of a 4-byte length and the bytes it announces.");
                    }

                    yield break;
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static long TakeLines(ref ReadOnlySequence<byte> buffer, List<byte[]> records, bool completed)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
        {
            records.Add(TrimCr(line));
        }

        if (completed && !reader.End)
        {
            records.Add(TrimCr(reader.UnreadSequence));
            reader.AdvanceToEnd();
        }

        var consumed = reader.Consumed;
        buffer = buffer.Slice(reader.Position);
        return consumed;
    }

    private static byte[] TrimCr(ReadOnlySequence<byte> line)
    {
        var bytes = line.ToArray();
        return bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes[..^1] : bytes;
    }

    private static long TakeBinary(ref ReadOnlySequence<byte> buffer, List<byte[]> records)
    {
        long consumed = 0;
        Span<byte> prefix = stackalloc byte[4];
        while (buffer.Length >= 4)
        {
            buffer.Slice(0, 4).CopyTo(prefix);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
            if (length > MaxBinaryLength)
            {
                throw new CliException($"A binary record announces {length} bytes, more than the largest record ({MaxBinaryLength} bytes): the input is not in the length-prefixed framing.");
            }

            if (buffer.Length < 4 + length)
            {
                break;
            }

            records.Add(buffer.Slice(4, length).ToArray());
            buffer = buffer.Slice(4 + length);
            consumed += 4 + length;
        }

        return consumed;
    }
}
