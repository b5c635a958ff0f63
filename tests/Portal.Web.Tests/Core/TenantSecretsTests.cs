using Microsoft.Extensions.Time.Testing;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests.Core;

public class TenantSecretsTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly CountingResolver _resolver = new();

    [Fact]
    public void ASecret_IsReadOnceWithinItsLifetime_AndAgainAfter_SoARotatedSecretIsUsed()
    {
        var secrets = new TenantSecrets(_resolver, _clock);
        var tenant = new TenantSettings { Id = "acme", Idp = { ApiTokenSecret = "env:ACME_TOKEN" } };

        Assert.Equal("env:ACME_TOKEN#1", secrets.Resolve(tenant, TenantSecret.IdpCredential));
        _clock.Advance(TenantSecrets.Lifetime - TimeSpan.FromSeconds(1));
        Assert.Equal("env:ACME_TOKEN#1", secrets.Resolve(tenant, TenantSecret.IdpCredential));
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("env:ACME_TOKEN#2", secrets.Resolve(tenant, TenantSecret.IdpCredential));
    }

    [Fact]
    public void EachSecret_IsFoundByWhatItIsFor_AndAFailureNamesTheTenantAndTheSetting()
    {
        var secrets = new TenantSecrets(_resolver, _clock);
        var tenant = new TenantSettings
        {
            Id = "changed-in-the-store",
            Idp = { ApiTokenSecret = "env:A", Entra = { PushConnector = { ClientSecretSecret = "env:B" } } },
            StepUp = { ClientSecretSecret = "env:C" },
        };

        Assert.Equal("env:A#1", secrets.Resolve(tenant, TenantSecret.IdpCredential));
        Assert.Equal("env:B#1", secrets.Resolve(tenant, TenantSecret.EntraPushConnector));
        Assert.Equal("env:C#1", secrets.Resolve(tenant, TenantSecret.StepUpClient));
        Assert.Equal(
            ["The setting Idp:ApiTokenSecret of tenant 'changed-in-the-store'", "The setting Idp:Entra:PushConnector:ClientSecretSecret of tenant 'changed-in-the-store'", "The setting StepUp:ClientSecretSecret of tenant 'changed-in-the-store'"],
            _resolver.SettingNames);
    }

    [Fact]
    public void AConnectionCheck_ForgetsTheTenantsKeptValues_SoARotatedSecretIsReadAtOnce()
    {
        var secrets = new TenantSecrets(_resolver, _clock);
        var tenant = new TenantSettings { Id = "acme", Idp = { ApiTokenSecret = "env:ACME_TOKEN" } };
        var other = new TenantSettings { Id = "other", Idp = { ApiTokenSecret = "env:OTHER_TOKEN" } };
        secrets.Resolve(tenant, TenantSecret.IdpCredential);
        secrets.Resolve(other, TenantSecret.IdpCredential);

        secrets.Forget(tenant);

        Assert.Equal("env:ACME_TOKEN#2", secrets.Resolve(tenant, TenantSecret.IdpCredential));
        Assert.Equal("env:OTHER_TOKEN#1", secrets.Resolve(other, TenantSecret.IdpCredential));
    }

    [Fact]
    public void AMissingReference_GoesToTheResolver_WhichNamesTheSetting()
    {
        var secrets = new TenantSecrets(_resolver, _clock);
        var tenant = new TenantSettings { Id = "acme", StepUp = { ClientSecretSecret = null! } };

        Assert.Equal("#1", secrets.Resolve(tenant, TenantSecret.StepUpClient));
        Assert.Equal(["The setting StepUp:ClientSecretSecret of tenant 'acme'"], _resolver.SettingNames);
    }

    private sealed class CountingResolver : ISecretResolver
    {
        private readonly Dictionary<string, int> _reads = [];

        public List<string> SettingNames { get; } = [];

        public string Resolve(string reference, string settingName)
        {
            SettingNames.Add(settingName);
            _reads[reference] = _reads.GetValueOrDefault(reference) + 1;
            return $"{reference}#{_reads[reference]}";
        }
    }
}
