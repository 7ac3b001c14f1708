using System.Buffers;
using TruthDb.Dataflow.Format;
using TruthDb.Dataflow.Storage;
using TruthDb.Dataflow.Validation;

namespace TruthDb.Dataflow.Recovery;

/// <summary>
/// Makes the disk hold what recovery read of the last segment where nothing proves it durable, before
/// recovery's sync declares it durable: after a writer that did not close cleanly, the page cache may
/// hold bytes that never reached the disk and that no sync will ever write.
/// </summary>
/// <remarks>
/// When writeback fails (an IO error of the device, a full thin-provisioned volume), Linux reports
/// the error once to an fdatasync of each open file, and marks the pages clean while keeping their
/// bytes in its cache. The writer faults at that error; but a recovery in the same boot reads the tail
/// from the cache, finds valid frames, and its own fdatasync returns 0 (nothing is dirty): without
/// this step it would declare durable records that the disk does not hold, and a power loss (or the
/// cache dropping them) would take them back. So, for the regions where a lost write can be:
/// <list type="bullet">
/// <item>the frames past the highest LSN the persisted evidence proves durable (the watermark mirror,
/// the synced-LSN fields of frames, a seal trailer: each is stored only after an fdatasync that
/// returned 0, and the writer syncs nothing more once one failed);</item>
/// <item>the segment's header region (synced before any record of it, so unproven when no record of the
/// segment is), and its seal trailer (written after its records were synced, then synced itself);</item>
/// </list>
/// the bytes are read twice, from the cache and from the device (<see cref="IStorageFile.TryReadDevice"/>,
/// O_DIRECT), and every span where they differ is written again from the cache, past the cache
/// (<see cref="IStorageFile.TryWriteDevice"/>, in whole 4 KiB blocks: a buffered write of the same
/// bytes is not enough on ext4, whose blocks behind such pages stay "unwritten" and read back as zeros
/// once the cache drops them). The sync that follows makes them durable, or fails and opening fails
/// with it; then <see cref="Restored.Verify"/> reads them from the device once more, and opening fails
/// if the disk still does not hold them. Proven records are never read past the cache (the header
/// region always is: one block); their bytes are written again, with their own contents, only where they share a block with a span that differs (the
/// writeback of a page holding them and newer records rewrites them on the device just the same). A
/// crash at any point leaves the same question to the next recovery: a write not yet synced is an
/// ordinary unsynced write of bytes nothing proves durable (or of proven bytes, unchanged).
/// </remarks>
internal static class UnprovenTail
{
    private const int Chunk = 1024 * 1024;

    /// <summary>
    /// Writes again, from the cache, the bytes of the last segment's unproven regions that the device
    /// does not hold. Null when the storage cannot read past its cache (nothing was checked).
    /// </summary>
    /// <param name="file">The last segment, writable.</param>
    /// <param name="scan">What validation learnt of it.</param>
    /// <param name="provenLsn">The highest LSN the evidence outside the segment proves durable (0 when none).</param>
    public static Restored? Restore(IStorageFile file, SegmentScan scan, long provenLsn)
    {
        var header = scan.Header!.Value;
        var proven = Math.Max(provenLsn, scan.KnownDurableLsn);
        var from = OffsetOf(file, scan, header, proven + 1);
        var restored = new Restored(from, proven + 1, scan.LastLsn);
        var cached = ArrayPool<byte>.Shared.Rent(Chunk);
        var device = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            var checkedAll = restored.Check(file, 0, SegmentLayout.RecordsStart, cached, device)
                && restored.Check(file, from, scan.RecordsEnd, cached, device)
                && (!scan.IsSealed || restored.Check(file, SegmentLayout.RecordsEnd(header.SegmentSize), header.SegmentSize, cached, device));
            return checkedAll ? restored : null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cached);
            ArrayPool<byte>.Shared.Return(device);
        }
    }

    // Where the frame of `lsn` starts (the end of the records when the segment has no such frame). The
    // frames were validated just before, so every one up to it reads again.
    private static long OffsetOf(IStorageFile file, SegmentScan scan, SegmentHeader header, long lsn)
    {
        if (lsn > scan.LastLsn)
        {
            return scan.RecordsEnd;
        }

        var (at, offset) = scan.Index.Seek(Math.Max(lsn, header.FirstLsn));
        using var reader = new StoredFrameReader(file, header.LogId.Seed, offset, scan.RecordsEnd, at);
        while (reader.ExpectedLsn < lsn)
        {
            if (reader.Next() != FrameStatus.Success)
            {
                throw new IOException($"The frame of LSN {reader.ExpectedLsn} in segment '{scan.Name}' at offset {reader.Offset} validated a moment ago and no longer does: the file changed under recovery.");
            }
        }

        return reader.Offset;
    }

    /// <summary>What was checked and written again.</summary>
    /// <param name="from">Where the unproven frames start.</param>
    /// <param name="fromLsn">The first LSN nothing proves durable.</param>
    /// <param name="lastLsn">The last LSN of the segment.</param>
    internal sealed class Restored(long from, long fromLsn, long lastLsn)
    {
        /// <summary>Where the unproven frames start.</summary>
        public long From { get; } = from;

        /// <summary>The first LSN nothing proves durable.</summary>
        public long FromLsn { get; } = fromLsn;

        /// <summary>The last LSN of the segment.</summary>
        public long LastLsn { get; } = lastLsn;

        private readonly List<(long Offset, int Length, uint Crc)> _written = [];

        /// <summary>The bytes written again (0 when the device held everything).</summary>
        public long Bytes { get; private set; }

        /// <summary>Where the first byte written again is (-1 when none).</summary>
        public long FirstOffset { get; private set; } = -1;

        /// <summary>
        /// Compares [from, to) in the cache and on the device, and writes each span that differs again,
        /// from the cache, past the cache (whole <see cref="IStorageFile.DirectBlockSize"/> blocks, so the
        /// bytes around the span that share its blocks are written again with their own contents);
        /// false when the device cannot be read past the cache.
        /// </summary>
        public bool Check(IStorageFile file, long from, long to, byte[] cached, byte[] device)
        {
            for (var at = from; at < to; at += Chunk)
            {
                var count = (int)Math.Min(Chunk, to - at);
                var fromCache = cached.AsSpan(0, file.ReadFully(at, cached.AsSpan(0, count)));
                if (!file.TryReadDevice(at, device.AsSpan(0, count), out var read))
                {
                    return false;
                }

                var fromDevice = device.AsSpan(0, Math.Min(read, fromCache.Length));
                var first = fromCache.CommonPrefixLength(fromDevice);
                if (first == fromCache.Length)
                {
                    continue;
                }

                // The device may be shorter than the cache's view (a size change that did not reach it):
                // whatever it lacks differs.
                var last = fromCache.Length - 1;
                while (last < fromDevice.Length && fromCache[last] == fromDevice[last])
                {
                    last--;
                }

                Bytes += last + 1 - first;
                FirstOffset = FirstOffset < 0 ? at + first : FirstOffset;
                WriteAgain(file, at + first, at + last + 1);
            }

            return true;
        }

        /// <summary>
        /// After the sync: reads what was written again from the device, and throws when the device
        /// does not hold it (the open fails rather than declare durable what the disk does not keep).
        /// </summary>
        public void Verify(IStorageFile file, string segment)
        {
            foreach (var (offset, length, crc) in _written)
            {
                var device = new byte[length];
                if (!file.TryReadDevice(offset, device, out var read) || read != length || Crc32C.Compute(device) != crc)
                {
                    throw new IOException(
                        $"Recovery wrote bytes {offset} to {offset + length} of segment '{segment}' again (the disk did not hold what the page cache did: a sync had failed before the log was closed) and synced them, but the disk still does not hold them. The log was not opened; check the device.");
                }
            }
        }

        // Writes [start, end) again from the cache, in whole direct blocks; a buffered write only where
        // the storage has no direct IO (Verify then tells whether it was enough).
        private void WriteAgain(IStorageFile file, long start, long end)
        {
            var blockStart = start / IStorageFile.DirectBlockSize * IStorageFile.DirectBlockSize;
            var blockEnd = Math.Min((end + IStorageFile.DirectBlockSize - 1) / IStorageFile.DirectBlockSize * IStorageFile.DirectBlockSize, file.Length);
            var bytes = new byte[blockEnd - blockStart];
            if (file.ReadFully(blockStart, bytes) != bytes.Length)
            {
                throw new IOException($"The segment '{file.Name}' ended under recovery at offset {blockStart + bytes.Length}.");
            }

            if (bytes.Length % IStorageFile.DirectBlockSize != 0 || !file.TryWriteDevice(blockStart, bytes))
            {
                var span = bytes.AsSpan((int)(start - blockStart), (int)(end - start));
                file.Write(start, span);
                _written.Add((start, span.Length, Crc32C.Compute(span)));
                return;
            }

            _written.Add((blockStart, bytes.Length, Crc32C.Compute(bytes)));
        }
    }
}
