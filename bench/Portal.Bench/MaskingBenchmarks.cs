using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.Extensions.DependencyInjection;
using Portal.Audit;

namespace Portal.Bench;

/// <summary>
/// The per-record identity protections on their own, against the cheapest hash of the same caller id
/// (unkeyed SHA-256 to lowercase hex): each figure says how many plain hashes one protection costs.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, warmupCount: 2, iterationCount: 5)]
public class MaskingBenchmarks
{
    // Inputs are instance fields, not constants, so the JIT cannot fold any of the work away.
    private readonly string _callerId = Samples.CallerId;
    private readonly string _email = Samples.CallerLogin;
    private readonly string _ipv4 = Samples.ClientAddress;
    private readonly string _ipv6 = Samples.ClientAddressV6;
    private readonly string _tenant = Samples.Tenant;
    private ServiceProvider _services = null!;
    private ICallerPseudonymizer _pseudonyms = null!;

    [GlobalSetup]
    public void Setup()
    {
        // The pseudonymizer as the portal registers it: AddPortalAudit and a configured key.
        var services = new ServiceCollection();
        services.AddPortalAudit();
        services.Configure<AuditOptions>(o => o.PseudonymisationKey = Samples.NewPseudonymisationKey());
        _services = services.BuildServiceProvider();
        _pseudonyms = _services.GetRequiredService<ICallerPseudonymizer>();

        // The per-tenant key is derived once and cached; warm it so the figure is the steady state.
        _pseudonyms.HashCallerId(_tenant, _callerId);
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "Baseline: SHA-256 hex of the caller id")]
    public string Sha256() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_callerId)));

    [Benchmark(Description = "ICallerPseudonymizer.HashCallerId")]
    public string HashCallerId() => _pseudonyms.HashCallerId(_tenant, _callerId);

    [Benchmark(Description = "PiiMask.Email")]
    public string MaskEmail() => PiiMask.Email(_email);

    [Benchmark(Description = "ClientNetwork.Truncate (IPv4)")]
    public string? TruncateIPv4() => ClientNetwork.Truncate(_ipv4);

    [Benchmark(Description = "ClientNetwork.Truncate (IPv6)")]
    public string? TruncateIPv6() => ClientNetwork.Truncate(_ipv6);
}
