using System.Buffers.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;

namespace Portal.Idp.Entra;

/// <summary>
/// The onboarding check of an Entra connection ("Test connection", docs/configuration.md "Testing the connection"):
/// an app-only token is obtained, one harmless Graph read is made (one user's id), the application permissions the
/// token carries (its <c>roles</c> claim) are compared with docs/entra.md's table, and the Temporary Access Pass
/// method of the authentication methods policy is read. Nothing is changed in Entra and nothing read is kept.
/// </summary>
internal sealed partial class GraphCallerDirectory : IIdpCapabilityCheck
{
    internal const string GraphDownReason = "Microsoft Graph did not answer the connection check; the action is offered and Entra decides when it is used.";
    internal const string GraphCredentialRefusedReason = "Microsoft refused the portal's Entra app credentials, so nothing can be done until they are fixed.";

    /// <summary>
    /// docs/entra.md's permission per operation, least privileged first; a higher-privileged permission Microsoft
    /// documents for the same calls is accepted too. Unlock has none: Entra has no unlock.
    /// </summary>
    internal static readonly IReadOnlyDictionary<IdpOperation, string[][]> PermissionsFor = new Dictionary<IdpOperation, string[][]>
    {
        [IdpOperation.ReadUsers] = [["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"]],
        [IdpOperation.VerifyFactors] = [["UserAuthenticationMethod.ReadWrite.All", "UserAuthenticationMethod.Read.All"]],
        [IdpOperation.ReadRoles] = [["RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"], ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"]],
        [IdpOperation.ResetPassword] = [["User.ReadWrite.All", "Directory.ReadWrite.All"]],
        [IdpOperation.RevokeSessions] = [["User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"]],
        [IdpOperation.ResetFactors] = [["UserAuthenticationMethod.ReadWrite.All"]],
        [IdpOperation.IssueTemporaryAccess] = [["UserAuthenticationMethod.ReadWrite.All"]],
        [IdpOperation.ReadAuditLog] = [["AuditLog.Read.All"]],
    };

    internal const string ReconciliationOffReason = "Reconciliation is off for this tenant, so the audit log is not read.";

    public async Task<IdpCapabilityReport> CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await RunCheckAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Graph connection check failed unexpectedly ({ErrorType})", ex.GetType().Name);
            return Report([new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unknown, "The connection check failed unexpectedly; try again.")], _ => (CapabilityState.Unknown, GraphDownReason));
        }
    }

    private async Task<IdpCapabilityReport> RunCheckAsync(CancellationToken ct)
    {
        var checks = new List<CapabilityCheck>();
        if (appToken is null)
        {
            return IdpCapabilityReport.NotChecked(IdpKind.Entra, time.GetUtcNow());
        }

        string token;
        try
        {
            token = await appToken(ct);
        }
        catch (EntraTokenException exception)
        {
            Log("check_token", 0, exception.Error);
            if (exception.Error.Kind == IdpErrorKind.Unauthorized)
            {
                checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unavailable, exception.Error.AgentMessage + " (" + exception.Error.Code + ")"));
                return Report(checks, _ => (CapabilityState.Unavailable, GraphCredentialRefusedReason));
            }

            checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unknown, exception.Error.AgentMessage));
            return Report(checks, _ => (CapabilityState.Unknown, GraphDownReason));
        }

        // The harmless read: one user's id.
        var read = await RunAsync("check_users", isRead: true, async c =>
        {
            await graph.Users.GetAsync(r => { r.QueryParameters.Top = 1; r.QueryParameters.Select = ["id"]; }, c);
            return IdpResult<Done>.Success(default);
        }, ct);
        if (read.Error is { Kind: IdpErrorKind.Unauthorized })
        {
            checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unavailable, "Microsoft Graph refused the portal's token (401)."));
            return Report(checks, _ => (CapabilityState.Unavailable, GraphCredentialRefusedReason));
        }

        if (read.Error is { Kind: not IdpErrorKind.AccessDenied } down)
        {
            checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Unknown, "Microsoft Graph did not answer the check (" + down.Code + ")."));
            return Report(checks, _ => (CapabilityState.Unknown, GraphDownReason));
        }

        checks.Add(new CapabilityCheck(IdpCapabilityReport.CredentialsCheck, CapabilityState.Available,
            read.IsSuccess ? "Microsoft issued the app-only token and Graph answered a user listing." : "Microsoft issued the app-only token; Graph refused the user listing (403)."));

        // The token's application permissions. The token is Graph's: it is read here, not validated (it came straight
        // from the token endpoint over TLS), and no claim of it is stored.
        var roles = RolesClaim(token);
        if (roles is null)
        {
            checks.Add(new CapabilityCheck("permissions", CapabilityState.Unknown, "The token's application permissions could not be read (not a JWT)."));
        }
        else
        {
            string[] needed = ["User.Read.All", "UserAuthenticationMethod.ReadWrite.All", "RoleManagement.Read.Directory", "GroupMember.Read.All", "User.RevokeSessions.All", "User.ReadWrite.All"];
            foreach (var permission in readsAuditLog ? [.. needed, "AuditLog.Read.All"] : needed)
            {
                var granted = roles.Contains(permission, StringComparer.Ordinal);
                checks.Add(new CapabilityCheck("permission:" + permission, granted ? CapabilityState.Available : CapabilityState.Unavailable,
                    granted ? "Granted (admin consent given)." : "Not granted to the portal's Graph app (or no admin consent)."));
            }
        }

        var tap = await CheckTapPolicyAsync(ct);
        checks.Add(tap);
        checks.Add(new CapabilityCheck("directory_role", CapabilityState.Unknown,
            "Graph also checks the app's directory role (Authentication Administrator; User Administrator for passwords) on each write; that is not readable without more permissions, so Entra decides when the action is used."));

        return Report(checks, operation =>
        {
            if (operation == IdpOperation.Unlock)
            {
                return (CapabilityState.Unavailable, NoUnlockMessage);
            }

            if (operation == IdpOperation.ReadAuditLog && !readsAuditLog)
            {
                return (CapabilityState.Unknown, ReconciliationOffReason);
            }

            if (read.Error is { Kind: IdpErrorKind.AccessDenied } && operation != IdpOperation.ReadRoles)
            {
                return (CapabilityState.Unavailable, "The portal's Graph app may not read users (User.Read.All), which every action needs first.");
            }

            if (roles is null)
            {
                return (CapabilityState.Unknown, "The token's permissions could not be read.");
            }

            var missing = PermissionsFor[operation].FirstOrDefault(any => !any.Any(p => roles.Contains(p, StringComparer.Ordinal)));
            if (missing is not null)
            {
                return (CapabilityState.Unavailable, "The portal's Graph app lacks the application permission " + missing[0] + " (grant it and give admin consent).");
            }

            return operation == IdpOperation.IssueTemporaryAccess && tap.State != CapabilityState.Available
                ? (tap.State, tap.Detail)
                : (CapabilityState.Available, null);
        });
    }

    private async Task<CapabilityCheck> CheckTapPolicyAsync(CancellationToken ct)
    {
        const string Name = "tap_policy";
        try
        {
            var configuration = await graph.Policies.AuthenticationMethodsPolicy.AuthenticationMethodConfigurations["TemporaryAccessPass"].GetAsync(cancellationToken: ct);
            return configuration?.State switch
            {
                AuthenticationMethodState.Enabled => new CapabilityCheck(Name, CapabilityState.Available, configuration is TemporaryAccessPassAuthenticationMethodConfiguration t
                    ? $"The Temporary Access Pass method is enabled (lifetime {t.MinimumLifetimeInMinutes}-{t.MaximumLifetimeInMinutes} minutes, default {t.DefaultLifetimeInMinutes})."
                    : "The Temporary Access Pass method is enabled."),
                AuthenticationMethodState.Disabled => new CapabilityCheck(Name, CapabilityState.Unavailable, "The Temporary Access Pass method is disabled in the tenant's authentication methods policy: an Entra administrator must enable it."),
                _ => new CapabilityCheck(Name, CapabilityState.Unknown, "Graph's answer about the Temporary Access Pass policy could not be read."),
            };
        }
        catch (ApiException exception) when (exception.ResponseStatusCode == 403)
        {
            return new CapabilityCheck(Name, CapabilityState.Unknown, "The Temporary Access Pass policy could not be read: grant Policy.Read.All to let the check see it.");
        }
        catch (Exception exception) when (IsGraphFailure(exception, ct))
        {
            return new CapabilityCheck(Name, CapabilityState.Unknown, "Microsoft Graph did not answer the Temporary Access Pass policy read.");
        }
    }

    /// <summary>The <c>roles</c> claim of a JWT access token (empty when absent: Entra omits it when nothing is granted); null when the token is not a JWT.</summary>
    internal static IReadOnlyList<string>? RolesClaim(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            if (payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            return payload.RootElement.TryGetProperty("roles", out var roles) && roles.ValueKind == JsonValueKind.Array
                ? [.. roles.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()!)]
                : [];
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return null;
        }
    }

    private IdpCapabilityReport Report(List<CapabilityCheck> checks, Func<IdpOperation, (CapabilityState State, string? Reason)> operation) =>
        new(IdpKind.Entra, time.GetUtcNow(), null, checks, [.. Enum.GetValues<IdpOperation>().Select(o =>
        {
            var (state, reason) = operation(o);
            return new OperationCapability(o, state, state == CapabilityState.Available ? null : reason);
        })]);
}
