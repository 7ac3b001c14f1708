using System.Diagnostics;
using Nerdbank.Streams;

namespace TruthDb.Dataflow.Ipc.Protocol;

/// <summary>How both sides set up the Nerdbank.Streams multiplexer (the version is fixed: there is no negotiation).</summary>
internal static class Multiplexing
{
    /// <summary>Options for a connection's <see cref="MultiplexingStream"/>.</summary>
    public static MultiplexingStream.Options Options(bool startSuspended) => new()
    {
        ProtocolMajorVersion = ProtocolConstants.MultiplexingVersion,
        StartSuspended = startSuspended,
        TraceSource = new TraceSource("TruthDb.Dataflow.Ipc", SourceLevels.Off),
        DefaultChannelTraceSourceFactoryWithQualifier = static (_, _) => new TraceSource("TruthDb.Dataflow.Ipc.Channel", SourceLevels.Off),
    };
}
