using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Portal.Audit.Tests;

public sealed class AuditSetupTests
{
    private static ServiceProvider Build(Action<AuditOptions> configure, Action<IServiceCollection>? before = null)
    {
        var services = new ServiceCollection();
        before?.Invoke(services);
        services.AddPortalAudit();
        services.Configure(configure);
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("", "Portal:Audit:PseudonymisationKey must be set")]
    [InlineData("not base64!", "Portal:Audit:PseudonymisationKey must be base64 of at least 32 bytes")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==", "Portal:Audit:PseudonymisationKey must be base64 of at least 32 bytes")]
    public void AddPortalAudit_BadKey_FailsNamingTheSetting(string key, string message)
    {
        using var services = Build(o => o.PseudonymisationKey = key);

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AuditOptions>>().Value);

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(401)]
    public void AddPortalAudit_RetentionOutOfBounds_FailsNamingTheSetting(int days)
    {
        using var services = Build(o =>
        {
            o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            o.DefaultRetentionDays = days;
        });

        var ex = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AuditOptions>>().Value);

        Assert.Contains("Portal:Audit:DefaultRetentionDays", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(400)]
    public void AddPortalAudit_RetentionAtItsBounds_IsAccepted(int days)
    {
        using var services = Build(o =>
        {
            o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            o.DefaultRetentionDays = days;
        });

        Assert.Equal(days, services.GetRequiredService<IOptions<AuditOptions>>().Value.DefaultRetentionDays);
        Assert.Equal(TimeSpan.FromDays(days), services.GetRequiredService<IAuditRetention>().For("any"));
    }

    [Fact]
    public void AddPortalAudit_NoHostRetention_UsesDefaultRetentionDays()
    {
        using var services = Build(o =>
        {
            o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
            o.DefaultRetentionDays = 90;
        });

        Assert.Equal(TimeSpan.FromDays(90), services.GetRequiredService<IAuditRetention>().For("any"));
        Assert.Matches("^[0-9a-f]{64}$", services.GetRequiredService<ICallerPseudonymizer>().HashCallerId("acme", "x"));
    }

    [Fact]
    public void AddPortalAudit_HostRetention_IsKept()
    {
        using var services = Build(
            o => o.PseudonymisationKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            s => s.AddSingleton<IAuditRetention>(new FixedRetention()));

        Assert.IsType<FixedRetention>(services.GetRequiredService<IAuditRetention>());
    }

    private sealed class FixedRetention : IAuditRetention
    {
        public TimeSpan For(string tenantId) => TimeSpan.FromDays(3);
    }
}
