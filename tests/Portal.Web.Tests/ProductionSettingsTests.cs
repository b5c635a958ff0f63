using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Internal;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests;

/// <summary>Settings a production deployment gets wrong, each refused naming itself; and Cloud Run's PORT.</summary>
public sealed class ProductionSettingsTests
{
    [Theory]
    [InlineData("Development", null, null, null)]
    [InlineData("Production", "Sqlite", null, "Portal:Storage:Provider is Sqlite outside Development")]
    [InlineData("Staging", null, null, "Portal:Storage:Sqlite:SingleInstance=true")]
    [InlineData("Staging", "Sqlite", "true", null)]
    [InlineData("Staging", "Firestore", null, null)]
    [InlineData("Production", "Firestore", null, "This is a Debug build")]
    public void Sqlite_And_DebugBuild_RefusedInProduction(string environment, string? provider, string? singleInstance, string? expected)
    {
        var configuration = Configuration(("Portal:Storage:Provider", provider), ("Portal:Storage:Sqlite:SingleInstance", singleInstance));

        var failure = Record.Exception(() => ProductionSettings.Check(configuration, new HostingEnvironment { EnvironmentName = environment }));

        if (expected is null)
        {
            Assert.Null(failure);
        }
        else
        {
            Assert.Contains(expected, Assert.IsType<InvalidOperationException>(failure).Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Auth0")]
    [InlineData("7")]
    public void UnknownIdpKind_IsNamed(string kind)
    {
        var configuration = Configuration(("Portal:Tenants:0:Id", "acme"), ("Portal:Tenants:0:Idp:Kind", kind));

        var failure = Record.Exception(() => ProductionSettings.Check(configuration, new HostingEnvironment { EnvironmentName = "Development" }));

        Assert.Equal($"Portal:Tenants:0:Idp:Kind is \"{kind}\": it must be Okta or Entra.", Assert.IsType<InvalidOperationException>(failure).Message);
    }

    [Fact]
    public void TenantsFile_GroupNamesWithSpaces_Bind()
    {
        var path = Path.Combine(Path.GetTempPath(), "portal-tenants-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, """{ "Tenants": [ { "Id": "acme", "GroupTiers": { "Helpdesk Tier 1": "Tier 1", "EMEA Help Desk Auditors": "Auditor" } } ] }""");
        try
        {
            var configuration = new ConfigurationManager();
            configuration.AddInMemoryCollection(new Dictionary<string, string?> { [ProductionSettings.TenantsFileSetting] = path });

            ProductionSettings.AddTenantsFile(configuration);

            var tenant = configuration.GetSection("Portal").Get<TenantCatalogOptions>()!.Tenants.Single();
            Assert.Equal("acme", tenant.Id);
            Assert.Equal("Tier 1", tenant.GroupTiers["Helpdesk Tier 1"]);
            Assert.Equal("Auditor", tenant.GroupTiers["EMEA Help Desk Auditors"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("/no/such/tenants.json", null, "Portal:TenantsFile names the file /no/such/tenants.json, which cannot be read")]
    [InlineData("EXISTING", "acme", "Portal:Tenants is set in settings and Portal:TenantsFile names a tenants file")]
    public void TenantsFile_Wrong_IsNamed(string path, string? settingsTenant, string expected)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, """{ "Tenants": [] }""");
        try
        {
            var configuration = new ConfigurationManager();
            var settings = new Dictionary<string, string?> { [ProductionSettings.TenantsFileSetting] = path == "EXISTING" ? file : path };
            if (settingsTenant is not null)
            {
                settings["Portal:Tenants:0:Id"] = settingsTenant;
            }

            configuration.AddInMemoryCollection(settings);

            var failure = Record.Exception(() => ProductionSettings.AddTenantsFile(configuration));

            Assert.StartsWith(expected, Assert.IsType<InvalidOperationException>(failure).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Port_IsTheHttpPort_AndAWrongOneIsNamed()
    {
        var builder = WebApplication.CreateSlimBuilder();

        ProductionSettings.HonourPort(builder, "8123");

        Assert.Equal("8123", builder.WebHost.GetSetting(WebHostDefaults.HttpPortsKey));
        Assert.Equal("PORT must be a port number (1-65535).", Assert.Throws<InvalidOperationException>(() => ProductionSettings.HonourPort(builder, "80a")).Message);
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value)).Build();
}
