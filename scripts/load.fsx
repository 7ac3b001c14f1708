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

/// One parameter a script takes: `--name value`, its default, what it means, and a check of a value
/// given on the command line (None when the value is good, else the message).
type Param = { Name: string; Default: string; Help: string; Check: string -> string option }

let private invariant = Globalization.CultureInfo.InvariantCulture

/// A whole number of at least `least`.
let intParam (name: string) (fallback: int) (least: int) (help: string) =
    { Name = name; Default = string fallback; Help = help
      Check = fun v ->
        match Int32.TryParse(v, Globalization.NumberStyles.AllowThousands, invariant) with
        | true, n when n >= least -> None
        | _ -> Some(sprintf "--%s takes a whole number of at least %d, not '%s'" name least v) }

/// A whole number (64-bit) of at least `least`.
let longParam (name: string) (fallback: int64) (least: int64) (help: string) =
    { Name = name; Default = string fallback; Help = help
      Check = fun v ->
        match Int64.TryParse(v, Globalization.NumberStyles.AllowThousands, invariant) with
        | true, n when n >= least -> None
        | _ -> Some(sprintf "--%s takes a whole number of at least %d, not '%s'" name least v) }

/// A number of seconds, at least `least`.
let secondsParam (name: string) (fallback: float) (least: float) (help: string) =
    { Name = name; Default = fallback.ToString(invariant); Help = help
      Check = fun v ->
        match Double.TryParse(v, Globalization.NumberStyles.AllowDecimalPoint, invariant) with
        | true, s when s >= least && not (Double.IsInfinity s) -> None
        | _ -> Some(sprintf "--%s takes a number of seconds of at least %s, not '%s'" name (least.ToString(invariant)) v) }

/// One of a fixed set of words.
let choiceParam (name: string) (fallback: string) (choices: string list) (help: string) =
    { Name = name; Default = fallback; Help = help
      Check = fun v ->
        if List.contains v choices then None
        else Some(sprintf "--%s takes %s, not '%s'" name (String.Join(" or ", choices)) v) }

/// A path (any non-empty text); empty default means "not given".
let pathParam (name: string) (help: string) =
    { Name = name; Default = ""; Help = help
      Check = fun v -> if String.IsNullOrWhiteSpace v then Some(sprintf "--%s takes a path" name) else None }

/// The values of a script's parameters, checked: `args.Int "producers"`.
type Args(values: Map<string, string>) =
    member _.Text(name: string) = values[name]
    member _.Int(name: string) = Int32.Parse(values[name], Globalization.NumberStyles.AllowThousands, invariant)
    member _.Long(name: string) = Int64.Parse(values[name], Globalization.NumberStyles.AllowThousands, invariant)
    member _.Float(name: string) = Double.Parse(values[name], Globalization.NumberStyles.AllowDecimalPoint, invariant)
    /// Whether the parameter was given (its value is not the empty default).
    member _.Given(name: string) = values[name] <> ""

/// Checks the command-line arguments after the script name against `parameters`: `--parameters` prints
/// them and exits 0 (`--help` itself is taken by dotnet fsi); an unknown parameter, a missing value or a bad value prints one line saying
/// which, then the list of parameters, and exits 2.
let parseArgs (script: string) (parameters: Param list) : Args =
    let usage () =
        let lines =
            parameters
            |> List.map (fun p ->
                let shown = if p.Default = "" then "" else sprintf " (default %s)" p.Default
                sprintf "  --%-12s %s%s" p.Name p.Help shown)
        sprintf "parameters of %s:\n%s" script (String.Join("\n", lines))
    let fail (message: string) =
        eprintfn "%s: %s" script message
        eprintfn "%s" (usage ())
        exit 2
    let given = fsi.CommandLineArgs |> Array.skip 1
    if Array.contains "--parameters" given then
        printfn "%s" (usage ())
        exit 0
    let rec take (i: int) (values: Map<string, string>) =
        if i >= given.Length then values
        else
            let token = given[i]
            if not (token.StartsWith "--") then fail (sprintf "unexpected argument '%s' (parameters are --name value)" token)
            let name = token.Substring 2
            match parameters |> List.tryFind (fun p -> p.Name = name) with
            | None -> fail (sprintf "unknown parameter '%s'" token)
            | Some p when i + 1 >= given.Length -> fail (sprintf "--%s needs a value" p.Name)
            | Some p ->
                let value = given[i + 1]
                match p.Check value with
                | Some message -> fail message
                | None -> take (i + 2) (Map.add name value values)
    let defaults = parameters |> List.map (fun p -> p.Name, p.Default) |> Map.ofList
    Args(take 0 defaults)

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
