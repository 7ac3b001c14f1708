using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using TruthDb.Dataflow.Replication.Nats.Diagnostics;
using TruthDb.Dataflow.Replication.Nats.Streams;

namespace TruthDb.Dataflow.Replication.Nats;

/// <summary>Creating the stream from the options, or checking that an existing one fits.</summary>
public sealed partial class NatsReplicator
{
    private const int StreamNameInUse = 10058;

    private async Task EnsureStreamAsync(CancellationToken ct)
    {
        try
        {
            var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
            CheckFits(stream.Info.Config);
            return;
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == ApiRefusals.StreamNotFound)
        {
            if (!_options.CreateStream)
            {
                throw new ReplicationException($"The stream '{StreamName}' does not exist, and creating it is turned off.", ex);
            }
        }

        var config = new StreamConfig(StreamName, [Subject])
        {
            Description = $"TruthDb.Dataflow log '{LogName}' (log id {_logId}), replicated by cursor '{CursorName}'.",
            Storage = _options.Storage == NatsStreamStorage.Memory ? StreamConfigStorage.Memory : StreamConfigStorage.File,
            NumReplicas = _options.Replicas,
            DuplicateWindow = _options.DuplicateWindow,
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.New,
            MaxMsgs = _options.MaxMessages,
            MaxBytes = _options.MaxBytes,
        };
        try
        {
            await _js.CreateStreamAsync(config, ct).ConfigureAwait(false);
            _duplicateWindow = config.DuplicateWindow;
            ReplicationEvents.StreamCreated(_logger, StreamName, Subject, config.NumReplicas, _options.Storage, config.DuplicateWindow);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == StreamNameInUse)
        {
            // Created meanwhile by someone else: it must fit like any existing stream.
            var stream = await _js.GetStreamAsync(StreamName, cancellationToken: ct).ConfigureAwait(false);
            CheckFits(stream.Info.Config);
        }
    }

    private void CheckFits(StreamConfig config)
    {
        _duplicateWindow = config.DuplicateWindow;
        var problems = new List<string>();
        var subjects = config.Subjects ?? [];
        var captured = false;
        foreach (var filter in subjects)
        {
            captured |= SubjectMatch.Matches(filter, Subject);
        }

        if (!captured)
        {
            problems.Add($"its subjects ({string.Join(", ", subjects)}) do not capture '{Subject}'");
        }

        if (config.NumReplicas != _options.Replicas)
        {
            problems.Add($"it has {config.NumReplicas} replica(s), not {_options.Replicas}");
        }

        var storage = config.Storage == StreamConfigStorage.Memory ? NatsStreamStorage.Memory : NatsStreamStorage.File;
        if (storage != _options.Storage)
        {
            problems.Add($"it uses {storage} storage, not {_options.Storage}");
        }

        if (config.Mirror is not null)
        {
            problems.Add("it is a mirror (it takes no publishes)");
        }

        if (config.Sealed)
        {
            problems.Add("it is sealed");
        }

        if (config.Discard == StreamConfigDiscard.Old && (config.MaxMsgs > 0 || config.MaxBytes > 0))
        {
            ReplicationEvents.DiscardsOld(_logger, StreamName);
        }

        if (problems.Count > 0)
        {
            throw new ReplicationException($"The existing stream '{StreamName}' does not fit: {string.Join("; ", problems)}.");
        }
    }
}
