namespace TruthDb.Dataflow.Inspection;

/// <summary>One frame of a segment, as <see cref="LogInspector.Dump"/> found it.</summary>
public sealed class FrameInfo
{
    internal FrameInfo(string segment, long offset, long lsn, long syncedLsn, long payloadLength, long frameLength, FrameCheck check)
    {
        Segment = segment;
        Offset = offset;
        Lsn = lsn;
        SyncedLsn = syncedLsn;
        PayloadLength = payloadLength;
        FrameLength = frameLength;
        Check = check;
    }

    /// <summary>The segment file name.</summary>
    public string Segment { get; }

    /// <summary>The frame's byte offset inside the segment.</summary>
    public long Offset { get; }

    /// <summary>The LSN stored in the frame (as read: meaningless when <see cref="Check"/> is a checksum mismatch).</summary>
    public long Lsn { get; }

    /// <summary>The synced-LSN field stored in the frame (every LSN up to it was durable when the frame was written).</summary>
    public long SyncedLsn { get; }

    /// <summary>The payload length stored in the frame.</summary>
    public long PayloadLength { get; }

    /// <summary>The bytes the frame occupies, header and padding included.</summary>
    public long FrameLength { get; }

    /// <summary>Whether the frame validates.</summary>
    public FrameCheck Check { get; }
}
