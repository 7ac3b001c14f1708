// An ETL example: a TPL Dataflow pipeline parses generated CSV rows, encodes them, and writes them
// into the log (durably, with backpressure); a consumer then reads the log back and checks that
// every row arrived once, in order.
//
//   dotnet build -c Release src/TruthDb.Dataflow
//   dotnet fsi scripts/etl.fsx --rows 100000
//
// Pipeline:  rows --> TransformBlock (parse + encode, 2 workers, bounded)
//                 --> ActionBlock (AppendAsync, 64 in flight so group commit batches them, bounded)
// A bounded block stops accepting when full and SendAsync waits, so a slow log slows the source
// instead of buffering without limit. The log's own MaxPendingBytes bounds what it queues.
// Parameters: --rows n (100000), --dir path (./data/scripts/etl, recreated); --parameters lists them, an
// unknown one or a bad value stops the script with exit code 2.
#load "load.fsx"
open System
open System.Buffers.Binary
open System.Diagnostics
open System.Text
open System.Threading.Tasks
open System.Threading.Tasks.Dataflow
open TruthDb.Dataflow
open Load

let args =
    parseArgs "etl.fsx"
        [ intParam "rows" 100_000 1 "CSV rows to generate and load"
          pathParam "dir" "log directory, recreated (default ./data/scripts/etl)" ]
let rows = args.Int "rows"
let dir = if args.Given "dir" then args.Text "dir" else freshDirectory "etl"

/// One source row: "id,customer,amount".
let row (i: int) = sprintf "%d,customer-%d,%d.%02d" i (i % 997) (i % 10_000) (i % 100)

/// Parses a row and encodes it as id (8 bytes) + amount in cents (8 bytes) + customer (UTF-8).
let encode (line: string) : byte[] =
    let parts = line.Split(',')
    let id = int64 parts[0]
    let cents = int64 (Decimal.Parse(parts[2], Globalization.CultureInfo.InvariantCulture) * 100M)
    let customer = Encoding.UTF8.GetBytes parts[1]
    let payload = Array.zeroCreate<byte> (16 + customer.Length)
    BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(0), id)
    BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), cents)
    customer.CopyTo(payload, 16)
    payload

let run () =
    task {
        let! wal = Wal.OpenAsync(WalOptions(Directory = dir, Durability = Durability.Sync))
        let clock = Stopwatch.StartNew()
        let parse =
            TransformBlock<string, byte[]>(encode, ExecutionDataflowBlockOptions(MaxDegreeOfParallelism = 2, BoundedCapacity = 1024))
        // Appends from many concurrent block workers land in the log in completion order, so the
        // ids are not in LSN order; the check below compares sets and sums, and the LSNs are dense.
        let append =
            ActionBlock<byte[]>((fun (payload: byte[]) -> wal.AppendAsync(ReadOnlyMemory payload).AsTask() :> Task),
                                ExecutionDataflowBlockOptions(MaxDegreeOfParallelism = 64, BoundedCapacity = 4096))
        parse.LinkTo(append, DataflowLinkOptions(PropagateCompletion = true)) |> ignore
        for i in 1 .. rows do
            let! accepted = parse.SendAsync(row i)
            if not accepted then failwith "the pipeline refused a row"
        parse.Complete()
        do! append.Completion
        let written = clock.Elapsed.TotalSeconds
        printfn "wrote %s rows durably in %.2f s (%s rows/s); durable LSN %d" (rows.ToString("N0")) written ((float rows / written).ToString("N0")) wal.DurableLsn

        // The consumer: read everything back and check it.
        let clock = Stopwatch.StartNew()
        let seen = Collections.BitArray(rows + 1)
        let mutable count = 0
        let mutable cents = 0L
        let mutable lastLsn = 0L
        let mutable dense = true
        do! wal.ReadAsync(1L)
            |> iterAsync (fun r ->
                let span = r.Payload.Span
                let id = int (BinaryPrimitives.ReadInt64LittleEndian span)
                if r.Lsn <> lastLsn + 1L then dense <- false
                lastLsn <- r.Lsn
                if id >= 1 && id <= rows && not seen[id] then
                    seen[id] <- true
                    count <- count + 1
                cents <- cents + BinaryPrimitives.ReadInt64LittleEndian(span.Slice 8))
        let read = clock.Elapsed.TotalSeconds
        let expectedCents = Seq.sum (seq { for i in 1 .. rows -> int64 (i % 10_000) * 100L + int64 (i % 100) })
        do! wal.DisposeAsync()
        let ok = count = rows && cents = expectedCents && dense && lastLsn = int64 rows
        printfn "read back %s rows in %.2f s (%s rows/s): %s" (count.ToString("N0")) read ((float count / read).ToString("N0"))
            (if ok then "every row once, LSNs dense, amounts add up" else sprintf "MISMATCH (rows %d, cents %d vs %d, dense %b, last LSN %d)" count cents expectedCents dense lastLsn)
        return if ok then 0 else 1
    }

let code = run().GetAwaiter().GetResult()
if not (args.Given "dir") then IO.Directory.Delete(dir, true)
exit code
