namespace TruthDb.Dataflow.Format;

/// <summary>
/// A durable named cursor: the file <c>cursor-NAME.cur</c>, replaced atomically on each commit.
/// <code>
///  0  8  magic "TDBCUR\r\n"
///  8  8  committed LSN (every record up to it is processed)
/// 16  4  CRC-32C of bytes 0..15
/// </code>
/// </summary>
internal static class CursorFile
{
    private const string Prefix = "cursor-";
    private const string Extension = ".cur";
    private const int MaxNameLength = 100;

    private static ReadOnlySpan<byte> Magic => "TDBCUR\r\n"u8;

    /// <summary>The file name of cursor <paramref name="name"/>.</summary>
    public static string FileName(string name) => Prefix + name + Extension;

    /// <summary>The cursor name in a cursor file name; false for other files.</summary>
    public static bool TryParseFileName(string fileName, out string name)
    {
        name = string.Empty;
        if (!fileName.StartsWith(Prefix, StringComparison.Ordinal) || !fileName.EndsWith(Extension, StringComparison.Ordinal))
        {
            return false;
        }

        name = fileName[Prefix.Length..^Extension.Length];
        return IsValidName(name);
    }

    /// <summary>Throws unless <paramref name="name"/> is 1 to 100 of <c>A-Z a-z 0-9 . _ -</c>.</summary>
    public static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!IsValidName(name))
        {
            throw new ArgumentException(
                $"'{name}' is not a valid cursor name: use 1 to {MaxNameLength} characters from A-Z, a-z, 0-9, '.', '_' and '-'.",
                nameof(name));
        }
    }

    /// <summary>The file's bytes for <paramref name="lsn"/>.</summary>
    public static byte[] Encode(long lsn) => ChecksummedFields.Encode(Magic, [lsn]);

    /// <summary>Parses a cursor file; false when it is damaged.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out long lsn)
    {
        Span<long> values = stackalloc long[1];
        var valid = ChecksummedFields.TryDecode(bytes, Magic, values);
        lsn = values[0];
        return valid && lsn >= 0;
    }

    private static bool IsValidName(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
