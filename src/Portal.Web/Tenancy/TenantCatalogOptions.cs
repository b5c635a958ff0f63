using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
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

            TenantIdpSettings.Validate(t, at, failures, CheckUrl, CheckSecret, secrets);
            AgentSignInSettings.Validate(t, at, failures, CheckUrl, CheckSecret);
            StepUpSettings.Validate(t, at, failures, CheckUrl, CheckSecret);
            ReconciliationSettings.Validate(t, at, failures);
            SmtpRelaySettings.Validate(t, at, failures, CheckSecret, environment.IsProduction());
            if (t.HeightenedMode.On || t.HeightenedMode.Since is not null || t.HeightenedMode.Reason.Length > 0)
            {
                failures.Add($"{at}:HeightenedMode is switched by a tenant admin in the console (docs/tenancy.md, \"Heightened-threat mode\"), never in configuration; remove the setting.");
            }

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
