// Loads the Release build of TruthDb.Dataflow into F# Interactive. Every script here starts with
//   #load "load.fsx"
// Build it first:  dotnet build -c Release src/TruthDb.Dataflow
//
// `#r` of a dll loads that assembly only, not its package dependencies, so the engine's one
// dependency (Microsoft.Extensions.Logging.Abstractions, not part of the .NET shared framework)
// comes in by `#r "nuget: ..."` at the version Directory.Packages.props pins. TPL Dataflow and
// System.Threading.Channels are in the shared framework.
#r "nuget: Microsoft.Extensions.Logging.Abstractions, 10.0.15"
#r "../src/TruthDb.Dataflow/bin/Release/net10.0/TruthDb.Dataflow.dll"

open System
open System.Collections.Generic
open System.Diagnostics
open System.Threading
open System.Threading.Tasks
open TruthDb.Dataflow

/// Command-line arguments after the script name: `dotnet fsi bench.fsx --size 128` gives ["--size"; "128"].
let scriptArgs = fsi.CommandLineArgs |> Array.skip 1

/// The value after `--name`, or the default.
let arg (name: string) (fallback: string) =
    match Array.tryFindIndex ((=) ("--" + name)) scriptArgs with
    | Some i when i + 1 < scriptArgs.Length -> scriptArgs[i + 1]
    | _ -> fallback

/// Whether `--name` is present.
let flag (name: string) = Array.contains ("--" + name) scriptArgs

let argInt name (fallback: int) = int (arg name (string fallback))
let argFloat name (fallback: float) = Double.Parse(arg name (string fallback), Globalization.CultureInfo.InvariantCulture)

/// A fresh directory under ./data/scripts (deleted first if it exists).
let freshDirectory (name: string) =
    let dir = IO.Path.Combine(".", "data", "scripts", name)
    if IO.Directory.Exists dir then IO.Directory.Delete(dir, true)
    dir

/// Calls `f` for every record of an IAsyncEnumerable (F# has no `await foreach`).
let iterAsync (f: WalRecord -> unit) (records: IAsyncEnumerable<WalRecord>) : Task =
    task {
        let e = records.GetAsyncEnumerator()
        try
            let mutable go = true
            while go do
                let! more = e.MoveNextAsync()
                if more then f e.Current else go <- false
        finally
            e.DisposeAsync().AsTask().Wait()
    }

/// The q-quantile (0..1) of an array of numbers (sorts it in place).
let quantile (q: float) (values: float[]) =
    if values.Length = 0 then nan
    else
        Array.sortInPlace values
        values[min (values.Length - 1) (int (q * float values.Length))]

let micros (ticks: int64) = float ticks * 1e6 / float Stopwatch.Frequency
