using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace TruthDb.Dataflow.Cli.Support;

/// <summary>
/// Prints records, one per line:
/// <list type="bullet">
/// <item><c>text</c>: <c>LSN TAB payload</c>, the payload's bytes written as they are (UTF-8 text stays text);</item>
/// <item><c>hex</c>: <c>LSN TAB payload in lowercase hex</c>;</item>
/// <item><c>json</c>: one JSON object per line (JSON Lines): <c>{"lsn":1,"length":5,"text":"hello","base64":"aGVsbG8="}</c>,
/// with <c>text</c> present only when the payload is valid UTF-8.</item>
/// </list>
/// </summary>
internal sealed class RecordWriter : IDisposable
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly Stream _out;
    private readonly string _format;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);

    public RecordWriter(Stream output, string format)
    {
        _out = output;
        _format = format;
    }

    /// <summary>The accepted <c>--format</c> values.</summary>
    public static string[] Formats { get; } = ["text", "hex", "json"];

    /// <summary>Formats one record into the buffer.</summary>
    public void Write(WalRecord record)
    {
        var payload = record.Payload.Span;
        switch (_format)
        {
            case "hex":
                WriteAscii(record.Lsn.ToString(CultureInfo.InvariantCulture) + "\t" + Convert.ToHexStringLower(payload));
                _buffer.Write(NewLine);
                break;
            case "json":
                using (var json = new Utf8JsonWriter(_buffer))
                {
                    json.WriteStartObject();
                    json.WriteNumber("lsn", record.Lsn);
                    json.WriteNumber("length", payload.Length);
                    if (Utf8.IsValid(payload))
                    {
                        json.WriteString("text", Encoding.UTF8.GetString(payload));
                    }

                    json.WriteBase64String("base64", payload);
                    json.WriteEndObject();
                }

                _buffer.Write(NewLine);
                break;
            default:
                WriteAscii(record.Lsn.ToString(CultureInfo.InvariantCulture) + "\t");
                _buffer.Write(payload);
                _buffer.Write(NewLine);
                break;
        }
    }

    /// <summary>Writes what is buffered when it is big, or always when <paramref name="force"/>.</summary>
    public void Flush(bool force)
    {
        if (_buffer.WrittenCount == 0 || (!force && _buffer.WrittenCount < 32 * 1024))
        {
            return;
        }

        _out.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
        if (force)
        {
            _out.Flush();
        }
    }

    public void Dispose() => Flush(force: true);

    private void WriteAscii(string text)
    {
        var span = _buffer.GetSpan(text.Length);
        var n = Encoding.ASCII.GetBytes(text, span);
        _buffer.Advance(n);
    }
}
