using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Portal.Idp;
using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>The tenants, from configuration, validated at start-up with messages that name the setting.</summary>
public sealed class TenantCatalogOptions
{
    public List<TenantSettings> Tenants { get; set; } = [];
}

internal sealed partial class TenantCatalogOptionsValidator(IHostEnvironment environment, ISecretResolver secrets) : IValidateOptions<TenantCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantCatalogOptions options)
    {
        var failures = new List<string>();
        if (options.Tenants.Count == 0)
        {
            failures.Add("Portal:Tenants must list at least one tenant.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Tenants.Count; i++)
        {
            var t = options.Tenants[i];
            var at = $"Portal:Tenants:{i}";
            if (!TenantIdPattern().IsMatch(t.Id))
            {
                failures.Add($"{at}:Id must be 2-40 characters of a-z, 0-9 and '-'.");
            }
            else if (!ids.Add(t.Id))
            {
                failures.Add($"{at}:Id '{t.Id}' is used twice.");
            }

            if (string.IsNullOrWhiteSpace(t.DisplayName))
            {
                failures.Add($"{at}:DisplayName must be set.");
            }

            CheckUrl(failures, $"{at}:Idp:BaseUrl", t.Idp.BaseUrl);
            if (t.Idp.Kind == IdpKind.Entra)
            {
                if (!Guid.TryParse(t.Idp.Entra.DirectoryTenantId, out _))
                {
                    failures.Add($"{at}:Idp:Entra:DirectoryTenantId must be the Entra directory id (a GUID).");
                }

                if (!Guid.TryParse(t.Idp.Entra.ClientId, out _))
                {
                    failures.Add($"{at}:Idp:Entra:ClientId must be the application (client) id, a GUID, of the app registration that calls Microsoft Graph.");
                }

                if (!string.IsNullOrEmpty(t.Idp.Entra.TokenEndpoint))
                {
                    CheckUrl(failures, $"{at}:Idp:Entra:TokenEndpoint", t.Idp.Entra.TokenEndpoint);
                }

                var push = t.Idp.Entra.PushConnector;
                if (push.Enabled)
                {
                    CheckSecret(failures, $"{at}:Idp:Entra:PushConnector:ClientSecretSecret", push.ClientSecretSecret);
                    foreach (var (endpoint, value) in new[] { ("TokenEndpoint", push.TokenEndpoint), ("ConnectorEndpoint", push.ConnectorEndpoint) })
                    {
                        if (!string.IsNullOrEmpty(value))
                        {
                            CheckUrl(failures, $"{at}:Idp:Entra:PushConnector:{endpoint}", value);
                        }
                    }
                }
            }

            CheckSecret(failures, $"{at}:Idp:ApiTokenSecret", t.Idp.ApiTokenSecret);
            var serviceApp = t.Idp.Okta.ServiceApp;
            if (t.Idp.Kind == IdpKind.Okta && !string.IsNullOrWhiteSpace(serviceApp.ClientId))
            {
                if (serviceApp.Scopes.Any(s => string.IsNullOrWhiteSpace(s) || !s.StartsWith("okta.", StringComparison.Ordinal) || s.Any(c => c is ' ' or '"' || char.IsControl(c))))
                {
                    failures.Add($"{at}:Idp:Okta:ServiceApp:Scopes must hold Okta API scopes, one per entry (okta.users.read, okta.users.manage, okta.authenticators.read).");
                }

                if (SecretResolver.IsWellFormed(t.Idp.ApiTokenSecret))
                {
                    try
                    {
                        using var key = System.Security.Cryptography.RSA.Create();
                        key.ImportFromPem(secrets.Resolve(t.Idp.ApiTokenSecret, $"{at}:Idp:ApiTokenSecret"));
                        if (key.KeySize < 2048)
                        {
                            failures.Add($"{at}:Idp:ApiTokenSecret must name the service app's RSA private key of at least 2048 bits (Idp:Okta:ServiceApp is set).");
                        }
                    }
                    catch (ArgumentException)
                    {
                        failures.Add($"{at}:Idp:ApiTokenSecret must name the service app's PEM RSA private key (Idp:Okta:ServiceApp is set).");
                    }
                    catch (InvalidOperationException)
                    {
                        // The missing secret is already reported by CheckSecret.
                    }
                }
            }

            CheckUrl(failures, $"{at}:AgentSignIn:Authority", t.AgentSignIn.Authority);
            if (string.IsNullOrWhiteSpace(t.AgentSignIn.ClientId))
            {
                failures.Add($"{at}:AgentSignIn:ClientId must be set.");
            }

            if (string.IsNullOrWhiteSpace(t.AgentSignIn.ClientAssertionKeySecret))
            {
                CheckSecret(failures, $"{at}:AgentSignIn:ClientSecretSecret", t.AgentSignIn.ClientSecretSecret);
            }
            else
            {
                CheckSecret(failures, $"{at}:AgentSignIn:ClientAssertionKeySecret", t.AgentSignIn.ClientAssertionKeySecret);
            }

            if (t.AgentSignIn.Scopes.Count > 0 && (!t.AgentSignIn.Scopes.Contains("openid", StringComparer.Ordinal) || t.AgentSignIn.Scopes.Any(s => string.IsNullOrWhiteSpace(s) || s.Any(c => c is ' ' or '"' or '\\' || char.IsControl(c)))))
            {
                failures.Add($"{at}:AgentSignIn:Scopes must include openid and hold single scope tokens.");
            }
            if (t.AgentSignIn.RequiredAmr.Concat(t.AgentSignIn.RequiredAcrs).Any(string.IsNullOrWhiteSpace))
            {
                failures.Add($"{at}:AgentSignIn:RequiredAmr and RequiredAcrs must not hold empty values (agent MFA is required).");
            }

            StepUpSettings.Validate(t, at, failures, CheckUrl, CheckSecret);
            ReconciliationSettings.Validate(t, at, failures);

            TenantPolicyRules.Check(t, at, failures, environment.IsDevelopment());
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void CheckUrl(List<string> list, string setting, string value)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                list.Add($"{setting} must be an absolute https URL.");
            }
            else if (uri.Scheme == Uri.UriSchemeHttp && !(uri.IsLoopback && environment.IsDevelopment()))
            {
                // Plain http would put API tokens and ID tokens on the wire: only the local emulator may use it.
                list.Add($"{setting} must use https (http is accepted only for a loopback emulator in Development).");
            }
        }

        void CheckSecret(List<string> list, string setting, string value)
        {
            if (!SecretResolver.IsWellFormed(value))
            {
                list.Add($"{setting} must be a secret reference 'env:NAME' or 'file:/path' (secrets are never written in settings).");
                return;
            }

            try
            {
                // Resolved once at start-up so that a missing secret stops the portal here, naming its setting.
                _ = secrets.Resolve(value, setting);
            }
            catch (InvalidOperationException ex)
            {
                list.Add(ex.Message);
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,39}$")]
    private static partial Regex TenantIdPattern();
}
