namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>The fixed numbers and names of the protocol (docs/ipc-protocol.md).</summary>
internal static class ProtocolConstants
{
    /// <summary>The version of this protocol, sent in Hello and HelloReply.</summary>
    public const int Version = 1;

    /// <summary>
    /// The Nerdbank.Streams <c>MultiplexingStream</c> protocol major version both sides use. There is
    /// no negotiation in the multiplexer, so it is fixed here and in the documentation.
    /// </summary>
    public const int MultiplexingVersion = 3;

    /// <summary>The channel the client offers for requests and replies.</summary>
    public const string ControlChannel = "truthdb.control";

    /// <summary>The prefix of the channel the server offers for a read or tail; the request id follows in decimal.</summary>
    public const string SubscriptionChannelPrefix = "truthdb.sub.";

    /// <summary>The length prefix of every message: 4 bytes, big-endian, unsigned.</summary>
    public const int LengthPrefix = 4;

    /// <summary>The default and smallest allowed maximum message size.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>The smallest maximum message size a server accepts as an option.</summary>
    public const int MinMaxMessageSize = 64 * 1024;

    /// <summary>The largest maximum message size (and what a client accepts from a server).</summary>
    public const int MaxMaxMessageSize = 64 * 1024 * 1024;

    /// <summary>What a server puts in one Records message at most (payload bytes), unless one record is bigger.</summary>
    public const int RecordsMessageBytes = 64 * 1024;

    /// <summary>The most payloads one Append may carry (bounds what decoding one message allocates).</summary>
    public const int MaxAppendRecords = 65536;

    /// <summary>What a server puts in one Records message at most (records).</summary>
    public const int RecordsMessageRecords = 1024;

    /// <summary>The name of a subscription channel for request <paramref name="id"/>.</summary>
    public static string SubscriptionChannel(uint id) => SubscriptionChannelPrefix + id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
