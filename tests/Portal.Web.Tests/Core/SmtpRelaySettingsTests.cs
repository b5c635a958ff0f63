using Portal.Web.Tenancy;

namespace Portal.Web.Tests.Core;

/// <summary>The recovery notices' relay settings (docs/recovery.md, "Recovery notices"): <c>Security=None</c> only for a loopback relay outside Production.</summary>
public sealed class SmtpRelaySettingsTests
{
    [Theory]
    [InlineData("127.0.0.1", false, null)]
    [InlineData("localhost", false, null)]
    [InlineData("::1", false, null)]
    [InlineData("127.0.0.1", true, "Portal:Tenants:0:Recovery:Notices:Smtp:Security may be None only for a loopback relay")]
    [InlineData("smtp.example.com", false, "Portal:Tenants:0:Recovery:Notices:Smtp:Security may be None only for a loopback relay")]
    public void SecurityNone_OnlyLoopback_NeverInProduction(string host, bool production, string? expected)
    {
        var tenant = new TenantSettings();
        tenant.Recovery.Notices.Smtp.Host = host;
        tenant.Recovery.Notices.Smtp.From = "notices@example.com";
        tenant.Recovery.Notices.Smtp.Security = "None";
        var failures = new List<string>();

        SmtpRelaySettings.Validate(tenant, "Portal:Tenants:0", failures, (_, _, _) => { }, production);

        if (expected is null)
        {
            Assert.Empty(failures);
        }
        else
        {
            Assert.StartsWith(expected, Assert.Single(failures), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void StartTlsByDefault_OnPort587_SslOnConnectOn465()
    {
        var relay = new SmtpRelaySettings { Host = "smtp.example.com" };
        Assert.Equal(SmtpRelaySettings.StartTls, relay.Security);
        Assert.Equal(587, relay.EffectivePort);
        relay.Security = SmtpRelaySettings.SslOnConnect;
        Assert.Equal(465, relay.EffectivePort);
    }
}
