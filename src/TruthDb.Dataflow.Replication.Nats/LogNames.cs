using System.Text;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>
/// Names in NATS: a log's name becomes one subject token (<c>truthdb.&lt;log name&gt;</c>), so it may
/// hold only characters every client accepts in a token.
/// </summary>
public static class LogNames
{
    /// <summary>The prefix of the default subject.</summary>
    public const string SubjectPrefix = "truthdb";

    /// <summary>
    /// The default log name for the log in <paramref name="directory"/>: the directory's own name,
    /// with every character other than ASCII letters, digits, '-' and '_' replaced by '_' (so
    /// <c>/var/lib/orders.v2</c> gives <c>orders_v2</c>); <c>log</c> when nothing is left.
    /// </summary>
    public static string FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var token = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            token.Append(IsTokenChar(c) ? c : '_');
        }

        return token.Length == 0 ? "log" : token.ToString();
    }

    /// <summary>The default subject of log <paramref name="logName"/>: <c>truthdb.&lt;logName&gt;</c>.</summary>
    public static string DefaultSubject(string logName) => SubjectPrefix + "." + logName;

    /// <summary>The default cursor of a replicator into <paramref name="streamName"/>: <c>replicator-&lt;stream&gt;</c>.</summary>
    public static string DefaultCursor(string streamName) => "replicator-" + streamName;

    /// <summary>
    /// The name of the mark a replicator keeps beside its cursor (<c>&lt;cursor&gt;.acked</c>): the highest LSN the
    /// stream ever acknowledged, written before the cursor moves back to re-ship records the stream lost,
    /// so that the audit still knows what the stream once held.
    /// </summary>
    public static string AcknowledgedMark(string cursorName) => cursorName + ".acked";

    /// <summary>True for one subject token of ASCII letters, digits, '-' and '_'.</summary>
    public static bool IsToken(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 200)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True for a literal subject: tokens of printable ASCII without wildcards, separated by single dots.</summary>
    public static bool IsSubject(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 255)
        {
            return false;
        }

        foreach (var token in text.Split('.'))
        {
            if (token.Length == 0 || token == "*" || token == ">")
            {
                return false;
            }

            foreach (var c in token)
            {
                if (c <= ' ' || c > '~' || c is '*' or '>')
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>True for a JetStream stream name: 1 – 255 printable ASCII characters without '.', '*', '>', '/' or '\'.</summary>
    public static bool IsStreamName(string? text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 255)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c <= ' ' || c > '~' || c is '.' or '*' or '>' or '/' or '\\')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
