using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;

namespace Portal.Web.Features.Admin;

/// <summary>The state of a tenant's heightened-threat mode as the API shows it; <see cref="Since"/> and <see cref="Reason"/> are null before the first switch.</summary>
public sealed record HeightenedModeState(bool On, DateTimeOffset? Since, string? Reason)
{
    public static HeightenedModeState Of(HeightenedModeSettings mode) => new(mode.On, mode.Since, mode.Reason.Length == 0 ? null : mode.Reason);
}

/// <summary>What a SOAR asks for: <c>on</c> true or false, and a reason code of <see cref="HeightenedModeSettings.Reasons"/>.</summary>
public sealed record HeightenedModeChange(bool? On, string? Reason);

/// <summary>
/// Heightened-threat mode for the tenant's security team (docs/tenancy.md, "Heightened-threat mode"; docs/audit.md,
/// "Heightened-threat mode API"): a tenant API key reads the mode (either scope) and a <c>heightened:write</c> key
/// switches it, through <see cref="HeightenedModeSwitch"/> as the admin console does, so the same audit (the key as the
/// actor) and the same webhook alarm follow. A switch to the state the mode is already in is answered 200 with the
/// state: PUT sets the state, so a playbook that runs twice does not fail; nothing changes, nothing is alarmed, and the
/// audit keeps the ask as refused <c>heightened_mode_unchanged</c>, as the console's.
/// </summary>
[Route("api/v1/tenants/{" + ApiKeyAuthentication.TenantRouteValue + "}/heightened-mode")]
[Authorize(AuthenticationSchemes = ApiKeyAuthentication.Scheme, Policy = ApiKeyAuthentication.Policy)]
[IgnoreAntiforgeryToken]
public sealed class HeightenedModeApiController(TenantAdministration admin, HeightenedModeSwitch heightened) : ControllerBase
{
    [HttpGet("")]
    [ApiKeyScope(ApiKeyScopes.AuditRead, ApiKeyScopes.HeightenedWrite)]
    public IActionResult Get()
    {
        // The policy has authenticated a live key of exactly this route's tenant.
        var key = ApiKeyContext.From(User)!;
        return Ok(HeightenedModeState.Of(admin.Current(key.TenantId).HeightenedMode));
    }

    [HttpPut("")]
    [ApiKeyScope(ApiKeyScopes.HeightenedWrite)]
    public async Task<IActionResult> Put([FromBody] HeightenedModeChange? change)
    {
        var key = ApiKeyContext.From(User)!;
        if (change?.On is not { } on)
        {
            return BadRequest(new HeightenedModeError("invalid_request", "The body is JSON {\"on\": true or false, \"reason\": a reason code}.", "on", null));
        }

        var switched = await heightened.SwitchAsync(AdminActor.Of(key, RequestContext.Of(HttpContext)), on, change.Reason, HttpContext.TraceIdentifier, HttpContext.RequestAborted);
        if (switched.Change.Succeeded || switched.AlreadySo)
        {
            return Ok(HeightenedModeState.Of(switched.Mode));
        }

        if (switched.InvalidRequest)
        {
            var allowed = HeightenedModeSettings.Reasons.Select(r => r.Code).ToList();
            return BadRequest(new HeightenedModeError("invalid_reason", "reason must be one of: " + string.Join(", ", allowed) + ".", "reason", allowed));
        }

        // The tenant's settings refused the change for a reason of their own (docs/tenancy.md): nothing changed.
        return Conflict(new HeightenedModeError(switched.Change.RefusedCode ?? "refused", switched.Change.Message, null, null));
    }

    /// <summary>The API's JSON error (as the API-key scheme's), naming the field at fault and, for a reason, the codes allowed.</summary>
    private sealed record HeightenedModeError(
        string Error,
        string Message,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Allowed);
}
