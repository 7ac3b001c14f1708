using System.Globalization;
using System.Text.Json;
using TruthDb.Dataflow.Inspection;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// The conventions of every <c>--json</c> output (documented in the README, stable: fields are added,
/// never renamed or removed):
/// <list type="bullet">
/// <item>one JSON object per line (a verb printing one thing prints one line; a verb printing many
/// prints JSON Lines), UTF-8, no indentation, nothing else on stdout;</item>
/// <item>field names in camelCase; LSNs, counts and byte sizes as JSON numbers (LSNs fit in 2^53 in
/// practice, but a parser reading them as 64-bit integers never rounds);</item>
/// <item>the log id as a string of 32 lowercase hex digits (<see cref="LogId(Guid)"/>), as every verb
/// prints it; times as ISO 8601 UTC strings; an unknown value as <c>null</c>, not left out.</item>
/// </list>
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonWriterOptions Options = new() { Indented = false };

    /// <summary>A log id as the CLI prints it everywhere, text and JSON: 32 lowercase hex digits, no dashes (the "N" format).</summary>
    public static string LogId(Guid id) => id.ToString("N", CultureInfo.InvariantCulture);

    /// <summary>A log id given as text (any GUID format) in the CLI's format; the text unchanged when it is not a GUID.</summary>
    public static string? LogId(string? id) => id is null ? null : Guid.TryParse(id, out var guid) ? LogId(guid) : id;

    /// <summary>Writes one object, built by <paramref name="write"/>, as one line on <paramref name="output"/>.</summary>
    public static void WriteLine(Stream output, Action<Utf8JsonWriter> write)
    {
        using (var json = new Utf8JsonWriter(output, Options))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        output.WriteByte((byte)'\n');
    }

    /// <summary>Writes <paramref name="value"/>, or null.</summary>
    public static void WriteStringOrNull(this Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>Writes a UTC time as ISO 8601, or null.</summary>
    public static void WriteTimeOrNull(this Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            json.WriteString(name, time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>Writes the array <c>segments</c>: one object per segment (the shape <c>stats --json</c> and <c>verify --json</c> share).</summary>
    public static void WriteSegments(this Utf8JsonWriter json, IReadOnlyList<SegmentSummary> segments) => json.WriteSegments(SegmentRow.Of(segments));

    /// <summary>Writes the array <c>segments</c> (a value not known is null).</summary>
    public static void WriteSegments(this Utf8JsonWriter json, IReadOnlyList<SegmentRow> segments)
    {
        json.WriteStartArray("segments");
        foreach (var segment in segments)
        {
            json.WriteStartObject();
            json.WriteString("name", segment.Name);
            json.WriteNumber("firstLsn", segment.FirstLsn);
            json.WriteNumber("lastLsn", segment.LastLsn);
            json.WriteNumber("records", segment.Records);
            json.WriteNumber("segmentSize", segment.SegmentSize);
            json.WriteNumberOrNull("fileLength", segment.FileLength);
            json.WriteNumberOrNull("recordsEnd", segment.RecordsEnd);
            if (segment.IsSealed is { } isSealed)
            {
                json.WriteBoolean("sealed", isSealed);
            }
            else
            {
                json.WriteNull("sealed");
            }

            json.WriteTimeOrNull("createdAt", segment.CreatedAt);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Writes the array <c>cursors</c>: <c>{"name":...,"committedLsn":...}</c> per cursor.</summary>
    public static void WriteCursors(this Utf8JsonWriter json, IReadOnlyDictionary<string, long> cursors)
    {
        json.WriteStartArray("cursors");
        foreach (var (name, lsn) in cursors)
        {
            json.WriteStartObject();
            json.WriteString("name", name);
            json.WriteNumber("committedLsn", lsn);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Writes the number <paramref name="name"/>, or null when the value is not known.</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
