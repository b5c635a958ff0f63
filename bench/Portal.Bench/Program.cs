using BenchmarkDotNet.Running;

namespace Portal.Bench;

/// <summary>Runs the benchmarks chosen on the command line (e.g. <c>--filter '*'</c>); see bench/run.sh and docs/PERFORMANCE.md.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
