using System.Security.Cryptography;

namespace TruthDb.Dataflow.Format;

/// <summary>
/// The log's identity: 16 random bytes made when the log is created and written into every
/// segment header. Every frame checksum starts from the CRC register after the id
/// (<see cref="Seed"/>), so a frame copied from another log never validates here.
/// </summary>
internal readonly struct LogId : IEquatable<LogId>
{
    /// <summary>Size of the id on disk.</summary>
    public const int Size = 16;

    private readonly Guid _value;

    private LogId(Guid value)
    {
        _value = value;
        Span<byte> bytes = stackalloc byte[Size];
        _value.TryWriteBytes(bytes);
        Seed = Crc32C.Append(Crc32C.Initial, bytes);
    }

    /// <summary>The CRC-32C register after the 16 id bytes: the starting state of every frame checksum.</summary>
    public uint Seed { get; }

    /// <summary>A new random id.</summary>
    public static LogId NewId()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        return new LogId(new Guid(bytes));
    }

    /// <summary>The id <paramref name="value"/> (a log's public <see cref="Guid"/>): a copy of that log gets it.</summary>
    public static LogId From(Guid value) => new(value);

    /// <summary>Reads an id from its 16 bytes.</summary>
    public static LogId Read(ReadOnlySpan<byte> bytes) => new(new Guid(bytes[..Size]));

    /// <summary>Writes the 16 id bytes.</summary>
    public void Write(Span<byte> destination) => _value.TryWriteBytes(destination[..Size]);

    /// <summary>The id as a <see cref="Guid"/> (the public face of it).</summary>
    public Guid ToGuid() => _value;

    /// <inheritdoc />
    public bool Equals(LogId other) => _value.Equals(other._value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is LogId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value.GetHashCode();

    /// <inheritdoc />
    public override string ToString() => _value.ToString("N");
}
