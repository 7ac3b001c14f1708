namespace TruthDb.Dataflow.Ipc.Tests.Support;

/// <summary>A log and a server for it in this process, listening on a socket in a temporary folder.</summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private InProcessServer(TestLog log, Wal wal, TruthDbServer server)
    {
        Log = log;
        Wal = wal;
        Server = server;
    }

    public TestLog Log { get; }

    public Wal Wal { get; }

    public TruthDbServer Server { get; }

    public string Socket => Log.Socket;

    public static async Task<InProcessServer> StartAsync(TruthDbServerOptions? options = null, Durability durability = Durability.Sync)
    {
        var log = new TestLog();
        var wal = await Wal.OpenAsync(log.Options(durability));
        var server = new TruthDbServer(wal, options);
        await server.ListenAsync(log.Socket);
        return new InProcessServer(log, wal, server);
    }

    public Task<TruthDbClient> ConnectAsync(TruthDbClientOptions? options = null) =>
        TruthDbClient.ConnectAsync(Socket, options, Timeouts.Token());

    /// <summary>Stops the server, closes the log and checks that it verifies clean.</summary>
    public async Task StopAndVerifyAsync()
    {
        await Server.StopAsync();
        await Wal.DisposeAsync();
        Log.AssertClean();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Wal.DisposeAsync();
        Log.Dispose();
    }
}
