using System.Buffers.Binary;

namespace TruthDb.Dataflow.Cli.Tests.Support;

/// <summary>The log's persisted durability evidence, rewound to build a genuinely torn tail.</summary>
internal static class Evidence
{
    /// <summary>
    /// Makes <paramref name="dir"/> look as if the process died before the sync of every record after
    /// <paramref name="durable"/> returned: no clean-close note, and the watermark mirror's durable LSN
    /// at <paramref name="durable"/> (what the writer had stored into it then).
    /// </summary>
    public static void RewindTo(string dir, long durable)
    {
        File.Delete(Path.Combine(dir, "truthdb.clean"));
        using var mirror = File.OpenHandle(Path.Combine(dir, "truthdb.watermarks"), FileMode.Open, FileAccess.ReadWrite);
        var words = new byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(words, durable);
        BinaryPrimitives.WriteInt64LittleEndian(words.AsSpan(8), durable);
        BinaryPrimitives.WriteInt64LittleEndian(words.AsSpan(16), 1);

        // Written LSN, durable LSN, open flag (docs/format.md, truthdb.watermarks).
        RandomAccess.Write(mirror, words, 24);
    }
}
