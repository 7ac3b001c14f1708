namespace TruthDb.Dataflow.Replication.Nats.Streams;

/// <summary>NATS subject matching: does a stream's subject filter (with <c>*</c> and <c>&gt;</c>) capture a literal subject?</summary>
internal static class SubjectMatch
{
    public static bool Matches(string filter, string subject)
    {
        var f = filter.Split('.');
        var s = subject.Split('.');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == ">")
            {
                return s.Length > i;
            }

            if (i >= s.Length || (f[i] != "*" && !string.Equals(f[i], s[i], StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return f.Length == s.Length;
    }
}
