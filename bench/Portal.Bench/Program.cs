using BenchmarkDotNet.Running;

namespace Portal.Bench;

/// <summary>
/// Runs the benchmarks chosen on the command line (e.g. <c>--filter '*'</c>; see bench/run.sh), or, with
/// <c>seed</c> first, seeds audit records for the HTTP benchmarks (bench/http.sh), or with <c>firestore-pages</c> compares the
/// store's paged read with raw REST; see docs/PERFORMANCE.md.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "seed")
        {
            return await AuditSeeder.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "firestore-pages")
        {
            return await FirestorePages.RunAsync(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
