using Microsoft.Extensions.DependencyInjection;
using Portal.IdpEmulator;
using Portal.Testing;
using Portal.Web.Platform;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// The portal on a real Kestrel socket on loopback, wired to a real IdP emulator on another loopback port,
/// on its own SQLite file, on the real clock (the browser's scripts count real seconds) that a test can move
/// forward (<see cref="Clock"/>, shared by portal and emulator). Plain http on <c>localhost</c>: the
/// development-only setting that lets Chromium keep the portal's cookies without TLS. Two tenants, as in the
/// demo: Okta (push, TOTP, step-up at the emulator's caller authority) and Entra (step-up with an ACR).
/// One per test class (a class fixture): starting a portal costs seconds, a test's callers are its own.
/// A <see cref="PortalHost"/> on Kestrel with the demo's settings and banner.
/// </summary>
public class PortalServer : IAsyncLifetime, IPortalSite
{
    public const string TenantId = "demo-okta";
    public const string TenantName = "Demo Org (Okta)";
    public const string EntraTenantName = "Demo Org (Entra)";

    /// <summary>The Okta group whose members need a second agent's approval for any action (the demo's admins).</summary>
    public const string PrivilegedGroup = "Okta Administrators";

    private const string ClientId = "portal-e2e";
    private const string EntraAgentClient = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c11";
    private const string GraphClient = "7d0c2b8a-41e6-4f0b-9d3c-5a6e8f1b2c12";

    private readonly PortalHost _host;

    public PortalServer()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>A portal with some settings of its own over the demo's (a test class that needs them has its own server).</summary>
    protected PortalServer(IReadOnlyDictionary<string, string?> settings)
    {
        _host = new PortalHost(Clock, "portal-e2e-")
        {
            UseKestrel = true,
            TestDefaults = false,
            CaptureLogs = false,

            // The demo banner the embedded emulator adds, pointing at this test's emulator, so the pages are the demo's pages.
            ConfigureServices = services => services.AddSingleton(new DemoInfo(new Uri(Emulator.BaseUrl, "phone"))),

            // As the demo Entra tenant (DemoTenants.Entra): manager approval, whose link (and the caller's notice) goes
            // through the emulator's mail sink.
            ExtraSettings = emulator => new Dictionary<string, string?>
            {
                ["Portal:Tenants:1:Recovery:ManagerApproval"] = "true",
                ["Portal:Tenants:1:Recovery:Notices:Smtp:Host"] = "127.0.0.1",
                ["Portal:Tenants:1:Recovery:Notices:Smtp:Port"] = emulator.MailSinkPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Portal:Tenants:1:Recovery:Notices:Smtp:From"] = "notices@entra.example",
                ["Portal:Tenants:1:Recovery:Notices:Smtp:Security"] = "None",
            },
        };
        _host.Tenants.Add(new TestTenant(TenantId, TestIdp.Okta, ClientId)
        {
            DisplayName = TenantName,
            StepUp = true,
            PrivilegedGroups = [PrivilegedGroup],
            ExecutiveGroups = [DemoTenants.ExecutivesGroup],
        });
        _host.Tenants.Add(new TestTenant("demo-entra", TestIdp.Entra, EntraAgentClient)
        {
            GraphClientId = GraphClient,
            DisplayName = EntraTenantName,
            GroupTiers = new Dictionary<string, string>
            {
                [EntraDemo.Tier1GroupId] = "Tier 1",
                [EntraDemo.Tier3GroupId] = "Tier 3",
                [EntraDemo.AuditorsGroupId] = "Auditor",
            },
            StepUp = true,
            StepUpRequiredAcrs = ["c1"],
        });
        foreach (var (key, value) in settings)
        {
            _host.Settings[key] = value;
        }
    }

    public EmulatorHost Emulator => _host.Emulator;

    public Uri EmulatorBaseUrl => Emulator.BaseUrl;

    public bool ServedWithTestCertificate => false;

    /// <summary>The portal's and the emulator's clock: real time, plus whatever a test moved it on by.</summary>
    public ShiftableClock Clock { get; } = new();

    public IServiceProvider Services => _host.Services;

    /// <summary>The portal's address, <c>http://localhost:{port}/</c>.</summary>
    public Uri BaseUrl => _host.BaseUrl;

    public Uri PhoneOf(string login) => new(Emulator.BaseUrl, "phone/" + Uri.EscapeDataString(login));

    public Task InitializeAsync() => _host.InitializeAsync();

    public Task DisposeAsync() => _host.DisposeAsync();
}

/// <summary>Real time plus an offset a test can add to: "ten minutes later" without waiting ten minutes.</summary>
public sealed class ShiftableClock : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
