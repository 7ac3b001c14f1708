// Closed-loop append benchmark for interactive perf work: N producers, each with one append in
// flight, for a number of seconds; live progress every second; a result table at the end.
//
//   dotnet build -c Release src/TruthDb.Dataflow
//   dotnet fsi scripts/bench.fsx --producers 64 --size 128 --durability sync --seconds 5
//
// Parameters (an unknown one or a bad value stops the script with exit code 2; --parameters lists them):
//   --producers n     concurrent producers                    (64)
//   --size bytes      payload size                            (128)
//   --durability d    sync | written                          (sync)
//   --seconds s       measured seconds                        (5)
//   --warmup s        unmeasured seconds before               (1)
//   --dir path        log directory, recreated                (./data/scripts/bench)
// The harness in perf/TruthDb.Dataflow.Perf is the tool for published numbers; this is for trying
// options quickly.
#load "load.fsx"
open System
open System.Diagnostics
open System.Threading
open System.Threading.Tasks
open TruthDb.Dataflow
open Load

let args =
    parseArgs "bench.fsx"
        [ intParam "producers" 64 1 "concurrent producers"
          intParam "size" 128 0 "payload size in bytes"
          choiceParam "durability" "sync" [ "sync"; "written" ] "sync | written"
          secondsParam "seconds" 5.0 0.01 "measured seconds"
          secondsParam "warmup" 1.0 0.0 "unmeasured seconds before"
          pathParam "dir" "log directory, recreated (default ./data/scripts/bench)" ]
let producers = args.Int "producers"
let size = args.Int "size"
let durability = if args.Text "durability" = "written" then Durability.Written else Durability.Sync
let seconds = args.Float "seconds"
let warmup = args.Float "warmup"
let dir = if args.Given "dir" then args.Text "dir" else freshDirectory "bench"

let run () =
    task {
        let! wal = Wal.OpenAsync(WalOptions(Directory = dir, Durability = durability))
        let mutable stop = false
        let mutable measuring = false
        let mutable completed = 0L
        let latencies = Array.init producers (fun _ -> ResizeArray<float>(100_000))
        let producer (i: int) : Task =
            task {
                let payload = Array.zeroCreate<byte> size
                while not (Volatile.Read(&stop)) do
                    let started = Stopwatch.GetTimestamp()
                    let! _ = wal.AppendAsync(ReadOnlyMemory payload)
                    if Volatile.Read(&measuring) then
                        latencies[i].Add(micros (Stopwatch.GetTimestamp() - started))
                        Interlocked.Increment(&completed) |> ignore
            }
        let tasks : Task[] = Array.init producers (fun i -> Task.Run(Func<Task>(fun () -> producer i)))
        do! Task.Delay(TimeSpan.FromSeconds warmup)
        Volatile.Write(&measuring, true)
        let clock = Stopwatch.StartNew()
        let mutable last = 0L
        while clock.Elapsed.TotalSeconds < seconds do
            do! Task.Delay(TimeSpan.FromSeconds(min 1.0 (seconds - clock.Elapsed.TotalSeconds |> max 0.01)))
            let now = Volatile.Read(&completed)
            printfn "  %5.1f s  %12s rec/s  (total %s)" clock.Elapsed.TotalSeconds ((now - last).ToString("N0")) (now.ToString("N0"))
            last <- now
        Volatile.Write(&measuring, false)
        let elapsed = clock.Elapsed.TotalSeconds
        let total = Volatile.Read(&completed)
        Volatile.Write(&stop, true)
        do! Task.WhenAll(tasks)
        let stats = wal.GetStatistics()
        do! wal.DisposeAsync()
        let all = latencies |> Array.collect (fun l -> l.ToArray())
        printfn ""
        printfn "| durability | size B | producers | records/s | p50 us | p99 us | p99.9 us | avg batch |"
        printfn "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        printfn "| %s | %d | %d | %s | %.0f | %.0f | %.0f | %.1f |"
            (string durability) size producers ((float total / elapsed).ToString("N0"))
            (quantile 0.5 all) (quantile 0.99 all) (quantile 0.999 all)
            (if stats.Batches > 0L then float stats.Appends / float stats.Batches else 0.0)
        return if total > 0L then 0 else 1
    }

let code = run().GetAwaiter().GetResult()
if not (args.Given "dir") then IO.Directory.Delete(dir, true)
exit code
