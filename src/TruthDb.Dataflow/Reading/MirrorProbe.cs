using System.Buffers.Binary;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;

namespace TruthDb.Dataflow.Reading;

/// <summary>What a reader found in the writer's watermark mirror.</summary>
/// <param name="Written">The written LSN the writer published.</param>
/// <param name="Durable">The durable LSN the writer published.</param>
/// <param name="WriterOpen">True while the writer has the log open (a writer killed with the log open leaves it set).</param>
internal readonly record struct MirrorWords(long Written, long Durable, bool WriterOpen);

/// <summary>
/// Reads <c>truthdb.watermarks</c> (<see cref="WatermarkMirror"/>) from another process with
/// positional reads, never through a mapping: a mapped page beyond the end of a file that was shrunk
/// or replaced under the reader faults (SIGBUS), which .NET cannot catch, while a read of a short,
/// missing or foreign file just says the mirror is not usable (the reader then reads what the segment
/// files prove). Each look reads the file twice and takes the words only when both reads agree: a
/// positional read is not atomic against the writer's 8-byte stores, the second read after a torn
/// first one sees the store complete.
/// </summary>
internal sealed class MirrorProbe(IWalStorage storage, LogId logId) : IDisposable
{
    private const int Attempts = 4;

    // The bytes up to and including the open flag.
    private const int Words = WatermarkMirror.OpenOffset + 8;

    private readonly Lock _gate = new();
    private IStorageFile? _file;
    private bool _disposed;

    /// <summary>The mirror's words, when the file exists, is whole and belongs to this log.</summary>
    public bool TryRead(out MirrorWords words)
    {
        words = default;
        Span<byte> first = stackalloc byte[WatermarkMirror.Size];
        Span<byte> second = stackalloc byte[WatermarkMirror.Size];
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            for (var attempt = 0; attempt < Attempts; attempt++)
            {
                if (!TryReadFile(first) || !WatermarkMirror.Matches(first, logId) || !TryReadFile(second))
                {
                    // Missing, short or foreign: not usable now; the next look opens the path afresh
                    // (the file may be replaced by then).
                    CloseHandle();
                    return false;
                }

                if (!first[..Words].SequenceEqual(second[..Words]))
                {
                    // The writer stored a word between the two reads: look again.
                    continue;
                }

                words = new MirrorWords(
                    BinaryPrimitives.ReadInt64LittleEndian(first[WatermarkMirror.WrittenOffset..]),
                    BinaryPrimitives.ReadInt64LittleEndian(first[WatermarkMirror.DurableOffset..]),
                    BinaryPrimitives.ReadInt64LittleEndian(first[WatermarkMirror.OpenOffset..]) != 0);
                if (!words.WriterOpen)
                {
                    // A closed writer's file: the next writer may put a new one in its place, which
                    // only a fresh open sees.
                    CloseHandle();
                }

                return words.Durable <= words.Written && words.Durable >= 0;
            }

            return false;
        }
    }

    /// <summary>Closes the file, so the next look opens the path afresh (it may have been replaced since).</summary>
    public void Reopen()
    {
        lock (_gate)
        {
            CloseHandle();
        }
    }

    /// <summary>Closes the file for good.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            CloseHandle();
        }
    }

    // True when the whole mirror was read.
    private bool TryReadFile(Span<byte> buffer)
    {
        try
        {
            _file ??= storage.Open(WatermarkMirror.FileName, writable: false);
            return _file.ReadFully(0, buffer) == buffer.Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Missing (FileNotFoundException is an IOException), unreadable: not usable.
            return false;
        }
    }

    private void CloseHandle()
    {
        _file?.Dispose();
        _file = null;
    }
}
