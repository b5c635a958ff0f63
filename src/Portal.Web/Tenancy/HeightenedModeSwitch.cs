using Portal.Web.Platform;

namespace Portal.Web.Tenancy;

/// <summary>What a switch of heightened-threat mode came to, and the mode as it stands after it.</summary>
public sealed record HeightenedSwitchResult(AdminChangeResult Change, HeightenedModeSettings Mode)
{
    /// <summary>Refused because a reason outside <see cref="HeightenedModeSettings.Reasons"/> (or neither on nor off) was given.</summary>
    public bool InvalidRequest => Change.RefusedCode == HeightenedModeSwitch.InvalidCode;

    /// <summary>Refused because the mode already was what was asked; nothing changed and nothing was alarmed.</summary>
    public bool AlreadySo => Change.RefusedCode == HeightenedModeSwitch.UnchangedCode;
}

/// <summary>
/// The one way heightened-threat mode is switched (docs/tenancy.md, "Heightened-threat mode"), from the admin console
/// or by a tenant API key of the <c>heightened:write</c> scope: a change of the tenant's settings through
/// <see cref="TenantAdministration"/> (atomic, audited as <c>admin.heightened_mode.on</c> or <c>.off</c> with the
/// before/after and the actor), then the <c>tenant.heightened_mode</c> alarm through the webhook.
/// </summary>
public sealed class HeightenedModeSwitch(TenantAdministration admin, IAlertNotifier notifier, TimeProvider clock)
{
    public const string InvalidCode = "invalid";
    public const string UnchangedCode = "heightened_mode_unchanged";

    /// <summary>Switches the mode <paramref name="on"/> (null: neither on nor off was asked, refused) with <paramref name="reason"/>.</summary>
    public async Task<HeightenedSwitchResult> SwitchAsync(AdminActor actor, bool? on, string? reason, string requestId, CancellationToken ct)
    {
        var mode = on is true ? "on" : "off";
        var now = clock.GetUtcNow();
        var result = await admin.ChangeAsync(actor, "admin.heightened_mode." + mode, p =>
        {
            if (on is null || !HeightenedModeSettings.IsReason(reason))
            {
                return new Refusal(InvalidCode, "Choose whether to switch heightened-threat mode on or off, and a reason from the list.");
            }

            if (p.HeightenedMode.On == on)
            {
                return new Refusal(UnchangedCode, $"Heightened-threat mode is already {mode}.");
            }

            p.HeightenedMode = new HeightenedModeSettings { On = on.Value, Since = now, Reason = reason! };
            return null;
        }, ct);

        if (result.Succeeded)
        {
            notifier.Raise(new AlertEvent
            {
                Id = PortalIds.New(),
                TenantId = actor.TenantId,
                Type = "tenant.heightened_mode",
                Reason = mode + " " + reason,
                At = now,
                AgentSubject = actor.Subject,
                AgentMaskedLogin = actor.MaskedLogin,
                RequestId = requestId,
            });
        }

        return new HeightenedSwitchResult(result, admin.Current(actor.TenantId).HeightenedMode);
    }
}
