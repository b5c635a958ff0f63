using Portal.Web.Agents;

namespace Portal.Web.Verification.StepUp;

/// <summary>What the agent reads out for one step-up: the link and its short code.</summary>
public sealed record StepUpHandoverValue(Uri Link, string Code)
{
    /// <summary>The link's token, which finds the link's record (wrong codes typed, opened or not).</summary>
    public string Token => Link.Segments[^1];

    public override string ToString() => "StepUpHandoverValue { [redacted] }";
}

/// <summary>
/// Keeps a step-up's link and code in the starting agent's browser, never on the server (<see cref="BrowserHandover"/>),
/// scoped to that step-up's page and living as long as the step-up. So the agent's page can be reloaded
/// (Post/Redirect/Get, "Check now") and still show them, to resend or read again.
/// </summary>
public sealed class StepUpHandover(BrowserHandover handover)
{
    private const string Purpose = "stepup-show";

    public void Keep(HttpResponse response, AgentContext agent, string pendingId, StepUpStarted started, DateTimeOffset expiresAt) =>
        handover.Keep(response, Purpose, agent, PagePath(pendingId), new Shown(started.Link.AbsoluteUri, started.ShortCode), expiresAt);

    /// <summary>The link and code of this step-up, when the request carries them for this agent session; else null.</summary>
    public StepUpHandoverValue? Read(HttpRequest request, AgentContext agent, string pendingId) =>
        handover.Read<Shown>(request, Purpose, agent, PagePath(pendingId)) is { } shown && Uri.TryCreate(shown.Link, UriKind.Absolute, out var link)
            ? new StepUpHandoverValue(link, shown.Code)
            : null;

    /// <summary>
    /// An Entra manager approval's short code (docs/recovery.md): kept the same way, for that approval's page only. Its
    /// link went to the manager by e-mail and is never in the agent's browser.
    /// </summary>
    public void KeepManagerCode(HttpResponse response, AgentContext agent, string pendingId, string code, DateTimeOffset expiresAt) =>
        handover.Keep(response, ManagerPurpose, agent, PagePath(pendingId), new ManagerShown(code), expiresAt);

    /// <summary>The short code of this manager approval, when the request carries it for this agent session; else null.</summary>
    public string? ReadManagerCode(HttpRequest request, AgentContext agent, string pendingId) =>
        handover.Read<ManagerShown>(request, ManagerPurpose, agent, PagePath(pendingId))?.Code;

    private const string ManagerPurpose = "manager-code-show";

    private static string PagePath(string pendingId) => "/verification/pending/" + pendingId;

    private sealed record Shown(string Link, string Code);

    private sealed record ManagerShown(string Code);
}
