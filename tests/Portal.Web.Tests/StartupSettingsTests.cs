using Portal.Web.Platform;
namespace Portal.Web.Tests;

/// <summary>A wrong setting stops the portal at start-up with a message that names the setting.</summary>
public sealed class StartupSettingsTests
{
    [Theory]
    [InlineData("Portal:Tenants:0:Idp:ApiTokenSecret", "ssws-plain-token-in-settings", "Portal:Tenants:0:Idp:ApiTokenSecret must be a secret reference")]
    [InlineData("Portal:Tenants:0:Idp:ApiTokenSecret", "env:PORTAL_TEST_VARIABLE_THAT_IS_NOT_SET", "Portal:Tenants:0:Idp:ApiTokenSecret refers to the environment variable PORTAL_TEST_VARIABLE_THAT_IS_NOT_SET")]
    [InlineData("Portal:Tenants:0:Idp:BaseUrl", "ftp://okta.example", "Portal:Tenants:0:Idp:BaseUrl must be an absolute https URL")]
    [InlineData("Portal:Tenants:0:Idp:BaseUrl", "http://acme.okta.example/", "Portal:Tenants:0:Idp:BaseUrl must use https")]
    [InlineData("Portal:Tenants:0:Verification:SessionMinutes", "45", "Portal:Tenants:0:Verification:SessionMinutes must be between 2 and 30")]
    [InlineData("Portal:Tenants:0:CallScripts:Escalation", " ", "Portal:Tenants:0:CallScripts:Escalation must be plain text of 1 to 1000 characters")]
    [InlineData("Portal:Tenants:0:HeightenedMode:On", "true", "Portal:Tenants:0:HeightenedMode is switched by a tenant admin in the console")]
    [InlineData("Portal:Web:PseudonymisationKeySecret", "file:/no/such/portal/key", "Portal:Web:PseudonymisationKeySecret refers to the file /no/such/portal/key")]
    [InlineData("Portal:Storage:Provider", "Firestore", "Portal:Storage:Firestore:ProjectId must be set")]
    [InlineData("Portal:Tenants:0:ActionMethods:tap_issue:0", "okta.totp", "Portal:Tenants:0:ActionMethods:tap_issue may list only okta.push, oidc.stepup, recovery.manager and recovery.idv")]
    [InlineData("Portal:Tenants:0:ActionMethods:mfa_reset:0", "entra.push", "Portal:Tenants:0:ActionMethods:mfa_reset may list only okta.push, oidc.stepup, recovery.manager and recovery.idv")]
    [InlineData("Portal:Tenants:0:ActionMethods:password_reset:0", "recovery.manager", "Portal:Tenants:0:ActionMethods:password_reset may not list a recovery method")]
    [InlineData("Portal:Web:PublicBaseUrl", "https://portal.example.com/helpdesk", "Portal:Web:PublicBaseUrl must be an absolute http(s) URL with nothing after the host")]
    [InlineData("Portal:Web:PublicBaseUrl", "portal.example.com", "Portal:Web:PublicBaseUrl must be an absolute http(s) URL")]
    [InlineData("Portal:Web:PublicBaseUrl", "http://portal.example.com", "Portal:Web:PublicBaseUrl must be https while Portal:Web:RequireHttps is true")]
    [InlineData("Portal:Tenants:0:Idp:Okta:ServiceApp:ClientId", "0oa1service", "Portal:Tenants:0:Idp:ApiTokenSecret must name the service app's PEM RSA private key")]
    [InlineData("Portal:Web:MaxSessionsPerAgent", "0", "Portal:Web:MaxSessionsPerAgent must be between 1 and 20")]
    [InlineData("Portal:Tenants:0:Idp:Okta:ApiTokenId", "", "Portal:Tenants:0:Idp:Okta:ApiTokenId must be set when reconciliation is on with an API token")]
    [InlineData("Portal:Tenants:0:Idp:Okta:ApiTokenId", "the-token-itself", "Portal:Tenants:0:Idp:Okta:ApiTokenId must be an Okta API token id")]
    [InlineData("Portal:Tenants:0:Reconciliation:AlarmOn:0", "Everything", "Portal:Tenants:0:Reconciliation:AlarmOn holds 'Everything'")]
    [InlineData("Portal:Tenants:0:Recovery:Notices:Smtp:Security", "Plain", "Portal:Tenants:0:Recovery:Notices:Smtp:Security must be StartTls, SslOnConnect or None")]
    [InlineData("Portal:Tenants:0:Recovery:Notices:Smtp:Host", "smtp.example.com", "Portal:Tenants:0:Recovery:Notices:Smtp:Security may be None only for a loopback relay")]
    [InlineData("Portal:Tenants:0:Recovery:Notices:Smtp:From", "the help desk", "Portal:Tenants:0:Recovery:Notices:Smtp:From must be an e-mail address")]
    [InlineData("Portal:Tenants:0:Recovery:Notices:Smtp:PasswordSecret", "relay-password-in-settings", "Portal:Tenants:0:Recovery:Notices:Smtp:UserName and PasswordSecret must be set together")]
    public async Task WrongSetting_StopsStartUp_NamingTheSetting(string setting, string value, string expected)
    {
        var host = new PortalTestHost();
        host.Settings[setting] = value;
        try
        {
            var failure = await Record.ExceptionAsync(host.InitializeAsync);

            Assert.NotNull(failure);
            Assert.Contains(expected, WhatTheOperatorReads(failure, host), StringComparison.Ordinal);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task ServiceAppScopeThatIsNotAnOktaScope_StopsStartUp_NamingIt()
    {
        var host = new PortalTestHost();
        host.Settings["Portal:Tenants:0:Idp:Okta:ServiceApp:ClientId"] = "0oa1service";
        host.Settings["Portal:Tenants:0:Idp:Okta:ServiceApp:Scopes:0"] = "users.read";
        try
        {
            var failure = await Record.ExceptionAsync(host.InitializeAsync);

            Assert.NotNull(failure);
            Assert.Contains("Portal:Tenants:0:Idp:Okta:ServiceApp:Scopes must hold Okta API scopes", WhatTheOperatorReads(failure, host), StringComparison.Ordinal);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("Production", null, "Portal:Web:PublicBaseUrl is required outside Development")]
    [InlineData("Staging", "", "Portal:Web:PublicBaseUrl is required outside Development")]
    [InlineData("Development", null, null)]
    [InlineData("Production", "https://portal.example.com", null)]
    public void PublicBaseUrl_RequiredOutsideDevelopment(string environment, string? value, string? expected)
    {
        var validator = new WebOptionsValidator(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment });

        var result = validator.Validate(null, new WebOptions { PublicBaseUrl = value });

        Assert.Equal(expected, result.Failed ? result.FailureMessage[..expected!.Length] : null);
    }

    [Fact]
    public async Task FrameworkForwardedHeaders_StopStartUp_NamingTheSwitch()
    {
        var host = new PortalTestHost();
        host.Settings["FORWARDEDHEADERS_ENABLED"] = "true";
        try
        {
            var failure = await Record.ExceptionAsync(host.InitializeAsync);

            Assert.NotNull(failure);
            Assert.Contains("ASPNETCORE_FORWARDEDHEADERS_ENABLED must not be set", WhatTheOperatorReads(failure, host), StringComparison.Ordinal);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>
    /// The start-up failure as an operator meets it: the exception, and the host's own "Hosting failed to start" log
    /// entry. When the failure comes from the host's start (not its build), the test factory's deferred host can lose
    /// a race with the entry point disposing the failed host and surface an <see cref="ObjectDisposedException"/> of
    /// its own instead; the logged entry still carries the portal's message, which is what the operator reads.
    /// </summary>
    private static string WhatTheOperatorReads(Exception failure, PortalTestHost host) =>
        AllMessages(failure) + " | " + string.Join(" | ", host.LogLines.Where(line => line.Contains("Hosting failed to start", StringComparison.Ordinal)));

    private static string AllMessages(Exception e) =>
        e is AggregateException aggregate
            ? string.Join(" | ", aggregate.InnerExceptions.Select(AllMessages))
            : e.Message + (e.InnerException is { } inner ? " | " + AllMessages(inner) : "");
}
