using Microsoft.Extensions.Logging;
using TruthDb.Dataflow.Ipc.Protocol;

namespace TruthDb.Dataflow.Ipc;

/// <summary>Settings of a <see cref="TruthDbServer"/>; copied and validated when the server is made.</summary>
public sealed class TruthDbServerOptions
{
    /// <summary>
    /// A shared secret: when set, a connection must send it in Hello before anything else is answered
    /// (other requests get an Unauthorized or HelloRequired error; three wrong tokens close the connection).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>The name the server gives in its Hello reply.</summary>
    public string ServerName { get; set; } = "truthdb";

    /// <summary>
    /// The largest message accepted or sent, in bytes (default 4 MiB; 64 KiB to 64 MiB). A length prefix
    /// above it is refused before anything is allocated. It must also hold the largest record a read returns.
    /// Keep it at most half of the log's segment size: an Append's records all go into one segment, and
    /// a client may join many appends into one message of up to this size (<c>truthdb serve</c> enforces it).
    /// </summary>
    public int MaxMessageSize { get; set; } = ProtocolConstants.DefaultMaxMessageSize;

    /// <summary>Requests one connection may have in flight (default 1024); past it the server stops reading that connection until replies go out.</summary>
    public int MaxRequestsInFlight { get; set; } = 1024;

    /// <summary>Reads and tails one connection may have open at once (default 64).</summary>
    public int MaxSubscriptionsPerConnection { get; set; } = 64;

    /// <summary>Channels a client may offer that the server did not ask for (default 16); one more closes the connection.</summary>
    public int MaxUnexpectedChannels { get; set; } = 16;

    /// <summary>How long a new connection has to offer its control channel, and a client to accept a subscription channel (default 10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The permissions of the socket file (default owner read and write only).</summary>
    public UnixFileMode SocketFileMode { get; set; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Where connection events are logged; none by default.</summary>
    public ILogger? Logger { get; set; }

    internal TruthDbServerOptions ValidatedCopy()
    {
        if (MaxMessageSize is < ProtocolConstants.MinMaxMessageSize or > ProtocolConstants.MaxMaxMessageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), MaxMessageSize, $"MaxMessageSize is {ProtocolConstants.MinMaxMessageSize} to {ProtocolConstants.MaxMaxMessageSize} bytes.");
        }

        if (MaxRequestsInFlight < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestsInFlight), MaxRequestsInFlight, "MaxRequestsInFlight must be at least 1.");
        }

        if (MaxSubscriptionsPerConnection < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSubscriptionsPerConnection), MaxSubscriptionsPerConnection, "MaxSubscriptionsPerConnection must be at least 1.");
        }

        if (MaxUnexpectedChannels < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUnexpectedChannels), MaxUnexpectedChannels, "MaxUnexpectedChannels cannot be negative.");
        }

        if (HandshakeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout, "HandshakeTimeout must be positive.");
        }

        if (Token is { Length: 0 })
        {
            throw new ArgumentException("Token cannot be empty (leave it null for no token).", nameof(Token));
        }

        return (TruthDbServerOptions)MemberwiseClone();
    }
}
