// Tails a log and prints, every second, the append rate, the rate the follower reads at, and how
// long after an append's acknowledgement the follower saw the record.
//
//   dotnet build -c Release src/TruthDb.Dataflow
//   dotnet fsi scripts/tail.fsx --seconds 5 --producers 16          # a writer and a follower in-process
//   dotnet fsi scripts/tail.fsx --existing ./data/sample            # read an existing log through once
//
// The engine admits one writer per log directory (an OS file lock). To follow a log that another
// process is writing, use `WalReader.Open(dir)` (no lock; see docs/reading.md) or `truthdb tail`;
// this script measures the in-process path and either
//   - (default) opens its own log, runs producers appending durably (Sync) and one follower with
//     ReadAsync(1, ReadOptions(Follow = true)) in the same process, for --seconds; or
//   - (--existing DIR) opens an existing log when no writer holds it (opening runs recovery and
//     takes the lock; a second opener gets the engine's "locked" error) and reads it from
//     --from (default 1) to its end, printing the read rate. Nothing new can arrive while it holds
//     the lock, so it does not follow.
// Parameters: --producers n (16), --size bytes (128), --seconds s (5), --dir path, --existing path,
// --from lsn; --parameters lists them, an unknown one or a bad value stops the script with exit code 2.
#load "load.fsx"
open System
open System.Diagnostics
open System.Threading
open System.Threading.Tasks
open TruthDb.Dataflow
open Load

let args =
    parseArgs "tail.fsx"
        [ intParam "producers" 16 1 "producers appending durably"
          intParam "size" 128 0 "payload size in bytes"
          secondsParam "seconds" 5.0 0.01 "measured seconds"
          pathParam "dir" "log directory, recreated (default ./data/scripts/tail)"
          pathParam "existing" "read this existing log through once instead"
          longParam "from" 1L 1L "first LSN to read with --existing" ]

let readExisting (dir: string) =
    task {
        let! wal = Wal.OpenAsync(WalOptions(Directory = dir))
        let from = args.Long "from"
        printfn "opened %s: first LSN %d, durable LSN %d" dir wal.FirstLsn wal.DurableLsn
        let clock = Stopwatch.StartNew()
        let mutable count = 0L
        let mutable bytes = 0L
        let mutable lastReport = 0.0
        do! wal.ReadAsync(from)
            |> iterAsync (fun r ->
                count <- count + 1L
                bytes <- bytes + int64 r.Payload.Length
                if clock.Elapsed.TotalSeconds - lastReport >= 1.0 then
                    lastReport <- clock.Elapsed.TotalSeconds
                    printfn "  %5.1f s  %s records" lastReport (count.ToString("N0")))
        let s = clock.Elapsed.TotalSeconds
        do! wal.DisposeAsync()
        printfn ""
        printfn "| records | payload MiB | seconds | records/s | MiB/s |"
        printfn "| ---: | ---: | ---: | ---: | ---: |"
        printfn "| %s | %.1f | %.3f | %s | %.0f |" (count.ToString("N0")) (float bytes / 1048576.0) s ((float count / s).ToString("N0")) (float bytes / 1048576.0 / s)
        return 0
    }

let tailOwn () =
    task {
        let producers = args.Int "producers"
        let size = args.Int "size"
        let seconds = args.Float "seconds"
        let dir = if args.Given "dir" then args.Text "dir" else freshDirectory "tail"
        let! wal = Wal.OpenAsync(WalOptions(Directory = dir, Durability = Durability.Sync))
        // Acknowledgement times by LSN; the follower looks them up (0 = not acknowledged yet).
        let acked = Collections.Concurrent.ConcurrentDictionary<int64, int64>()
        let mutable stop = false
        let mutable appended = 0L
        let mutable seen = 0L
        let gaps = ResizeArray<float>()
        let mutable followerFirst = 0L
        use cancel = new CancellationTokenSource()
        let follower =
            task {
                try
                    do! wal.ReadAsync(1L, ReadOptions(Follow = true), cancel.Token)
                        |> iterAsync (fun r ->
                            let now = Stopwatch.GetTimestamp()
                            match acked.TryRemove r.Lsn with
                            | true, ack -> lock gaps (fun () -> gaps.Add(micros (max 0L (now - ack))))
                            | _ -> Interlocked.Increment(&followerFirst) |> ignore
                            Interlocked.Increment(&seen) |> ignore)
                with :? OperationCanceledException -> ()
            }
        let producer () : Task =
            task {
                let payload = Array.zeroCreate<byte> size
                while not (Volatile.Read(&stop)) do
                    let! lsn = wal.AppendAsync(ReadOnlyMemory payload)
                    acked[lsn] <- Stopwatch.GetTimestamp()
                    Interlocked.Increment(&appended) |> ignore
            }
        let tasks : Task[] = Array.init producers (fun _ -> Task.Run(Func<Task>(producer)))
        let clock = Stopwatch.StartNew()
        let mutable lastA, lastS = 0L, 0L
        while clock.Elapsed.TotalSeconds < seconds do
            do! Task.Delay(TimeSpan.FromSeconds(min 1.0 (max 0.01 (seconds - clock.Elapsed.TotalSeconds))))
            let a, s = Volatile.Read(&appended), Volatile.Read(&seen)
            let snapshot = lock gaps (fun () -> let g = gaps.ToArray() in gaps.Clear(); g)
            printfn "  %5.1f s  appended %10s/s  followed %10s/s  ack->follower p50 %6.0f us  p99 %6.0f us"
                clock.Elapsed.TotalSeconds ((a - lastA).ToString("N0")) ((s - lastS).ToString("N0")) (quantile 0.5 snapshot) (quantile 0.99 snapshot)
            lastA <- a
            lastS <- s
        Volatile.Write(&stop, true)
        do! Task.WhenAll(tasks)
        // Let the follower catch up with the last durable record, then stop it.
        let deadline = Stopwatch.StartNew()
        while Volatile.Read(&seen) < wal.DurableLsn && deadline.Elapsed.TotalSeconds < 10.0 do
            do! Task.Delay 10
        cancel.Cancel()
        do! follower
        let caughtUp = Volatile.Read(&seen) = wal.DurableLsn
        printfn ""
        printfn "| records | follower saw | seen before the ack | caught up |"
        printfn "| ---: | ---: | ---: | --- |"
        printfn "| %s | %s | %s | %b |" (wal.DurableLsn.ToString("N0")) (seen.ToString("N0")) (followerFirst.ToString("N0")) caughtUp
        do! wal.DisposeAsync()
        if not (args.Given "dir") then IO.Directory.Delete(dir, true)
        return if caughtUp && seen > 0L then 0 else 1
    }

let code =
    if args.Given "existing" then readExisting(args.Text "existing").GetAwaiter().GetResult()
    else tailOwn().GetAwaiter().GetResult()
exit code
