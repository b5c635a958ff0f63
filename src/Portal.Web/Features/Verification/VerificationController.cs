using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Idp;
using Portal.Web.Agents;
using Portal.Web.Platform;
using Portal.Web.Tenancy;
using Portal.Web.Verification;
using Portal.Web.Verification.Actions;
using Portal.Web.Verification.Methods;
using Portal.Web.Verification.Recovery;
using Portal.Web.Verification.StepUp;

namespace Portal.Web.Features.Verification;

public sealed record PendingPage(
    string Id, string CallerMaskedLogin, int CorrectAnswer, ChallengeState State, DateTimeOffset ExpiresAt, string? VerificationSessionId, Refusal? Refusal,
    string Method = VerificationMethods.OktaPush, string? FailureReason = null, Uri? StepUpLink = null, string? StepUpCode = null, string? Progress = null)
{
    /// <summary>For manager approval: the manager the push went to, as the IdP has them now (for this page only, never stored).</summary>
    public ManagerContact? Manager { get; init; }

    /// <summary>For a call-back: the code to read out (from this agent's browser only) and the caller's work phone on file, read now.</summary>
    public CallBackContact? CallBack { get; init; }

    /// <summary>The tenant's escalation words, shown once a challenge was rejected (the caller may be an attacker pushing on).</summary>
    public string? Escalation { get; init; }

    /// <summary>The state in words for the agent, with what to do or say next; the page and its polling script show the same.</summary>
    public string StateText => PendingLabels.For(this);
}

/// <summary>
/// What the agent needs for a call-back: the one-time code to read out on the caller's call (null once this browser no
/// longer holds it) and the work phone the IdP has on file now (null when it has none or did not answer).
/// </summary>
public sealed record CallBackContact(string? Code, string? WorkPhone)
{
    /// <summary>The work phone on file is not the one the call-back started with: the agent must not call it.</summary>
    public bool NumberChanged { get; init; }

    /// <summary>The call-back ended without a verification; only "they did not call us" is still offered.</summary>
    public bool Ended { get; init; }

    public override string ToString() => "CallBackContact { [redacted] }";
}

/// <summary>Whom the agent calls for a manager approval: the manager's name and work phone as the IdP has them, and their masked login.</summary>
public sealed record ManagerContact(string? MaskedLogin, string? Name, string? WorkPhone)
{
    /// <summary>
    /// An Entra tenant's approval: the short code to read out to the manager (from this agent's browser only; null once
    /// it no longer holds it), whose link went to the manager's address on file. Null for an Okta push.
    /// </summary>
    public string? SignInCode { get; init; }

    /// <summary>Whether the manager is asked by a sign-in link (Entra) rather than a push (Okta).</summary>
    public bool BySignIn { get; init; }

    public override string ToString() => $"ManagerContact {{ MaskedLogin = {MaskedLogin} }}";
}

public sealed record SessionPage(string Id, string CallerMaskedLogin, string Method, DateTimeOffset VerifiedAt, DateTimeOffset ExpiresAt, IReadOnlyList<SessionAction> Actions)
{
    /// <summary>Why password reset is not offered (a directory-synced caller); null when it is.</summary>
    public string? PasswordResetNote { get; init; }

    /// <summary>The call's ticket reference (the first an action was given), prefilled for every action; null before any.</summary>
    public string? TicketRef { get; init; }

    /// <summary>What each action of this verification came to, in order.</summary>
    public IReadOnlyList<ActionDone> Done { get; init; } = [];

    /// <summary>Where this verification stands with the executive-target rule (docs/tenancy.md): two different methods before any action.</summary>
    public ExecutiveChain Executive { get; init; } = ExecutiveChain.NotExecutive;

    /// <summary>The method of the verification this one follows (a second method); null for a first verification.</summary>
    public string? PriorMethod { get; init; }

    /// <summary>Why no action is offered under the executive-target rule; null when it asks nothing more.</summary>
    public string? ExecutiveNote => Executive switch
    {
        ExecutiveChain.NeedsSecond => ExecutiveTargets.Note,
        ExecutiveChain.PriorEnded => "Executive: the first of the caller's two verifications has ended. Look the caller up and verify them again by one method, then by a second, different one.",
        _ => null,
    };

    /// <summary>
    /// The call summary the agent copies into the ticket: who was verified (masked, as the audit keeps them), how and
    /// when, each action and how it ended, and the ticket. No secret and no full login ever appears in it.
    /// </summary>
    public string Summary
    {
        get
        {
            var lines = new List<string>
            {
                $"Caller {CallerMaskedLogin} verified by {MethodLabels.Name(Method)} at {VerifiedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC (portal verification {Id}).",
            };
            if (PriorMethod is not null)
            {
                lines.Add($"Second, independent method after {MethodLabels.Name(PriorMethod)} (executive target).");
            }

            lines.AddRange(Done.Select(d =>
                $"{CallerAction.All.FirstOrDefault(a => a.Name == d.Action)?.Title ?? d.Action}: {OutcomeWord(d.Outcome)} at {d.At.UtcDateTime:HH:mm} UTC."));
            if (Done.Count == 0)
            {
                lines.Add("No action taken on the account.");
            }

            if (TicketRef is not null)
            {
                lines.Add("Ticket: " + TicketRef + ".");
            }

            return string.Join('\n', lines);
        }
    }

    private static string OutcomeWord(string outcome) => outcome switch
    {
        "succeeded" => "done",
        "partial" => "partly done (see the portal's audit)",
        _ => "failed (nothing may have changed; see the portal's audit)",
    };
}

/// <summary>
/// An action the agent's tier holds, as this verification allows it: offered only when the tenant's policy accepts
/// the method it was verified with (else <see cref="WhyNot"/> says which methods it accepts) and not yet done.
/// </summary>
public sealed record SessionAction(CallerAction Action, IReadOnlyList<string> AcceptedMethods, bool Used)
{
    /// <summary>Why the tenant's IdP connection cannot do this (its last connection check said unavailable); null when offered.</summary>
    public string? ConnectionUnavailable { get; init; }

    /// <summary>Why the account does not need this now (an unlock of an account that is not locked out); null when it may.</summary>
    public string? NotNeeded { get; init; }

    /// <summary>Why the executive-target rule holds this back (a second method needed, or the first ended); null when it does not.</summary>
    public string? SecondMethodNeeded { get; init; }

    public bool MethodAccepted(string method) => AcceptedMethods.Contains(method);

    public string WhyNot => $"Your organisation accepts {MethodLabels.Alternatives(AcceptedMethods)} for this. Verify the caller that way to offer it.";
}

[Route("verification")]
[Authorize(Policy = Permissions.CallerVerify)]
public sealed class VerificationController(
    VerificationService verification,
    StepUpHandover handover,
    StepUpStore stepUpLinks,
    TenantConnectionReports connection,
    ManagerApprovalMethod managerApproval,
    CallBackMethod callBack,
    CallBackHandover callBackHandover) : AgentController
{
    /// <summary>
    /// <c>recovery.callback</c> (docs/recovery.md): a one-time code the agent reads out on the caller's call, then a
    /// call to the work phone on file, where who answers must say it back. The code travels to the agent's page in an
    /// encrypted cookie of this agent's browser only (<see cref="CallBackHandover"/>); the server keeps its keyed hash.
    /// </summary>
    [HttpPost("callback")]
    public Task<IActionResult> StartCallBack([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? priorVerificationId) =>
        StartAsync(VerificationMethods.RecoveryCallBack, callerRef, factorId, null, priorVerificationId);

    /// <summary>
    /// What the person who answered the number on file said: the code (<paramref name="code"/>), or that they never
    /// called the help desk (<paramref name="outcome"/> <c>not_me</c>, an alarm). Post/Redirect/Get, so F5 answers nothing twice.
    /// </summary>
    [HttpPost("pending/{id}/callback")]
    public async Task<IActionResult> ConfirmCallBack(string id, [FromForm] string? code, [FromForm] string? outcome)
    {
        var (agent, tenant) = Agent();
        if (!ChallengeId.TryParse(id, out var challenge))
        {
            return NotFound();
        }

        var (pending, refusal) = await verification.ConfirmCallBackAsync(Current, challenge, code, outcome == "not_me", HttpContext.RequestAborted);
        if (pending is null)
        {
            return NotFound();
        }

        if (refusal is not null)
        {
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return View(nameof(Pending), await WithCallBackAsync(agent, tenant, ToPage(pending, refusal) with { Escalation = tenant.CallScripts.Escalation }, pending));
        }

        if (pending.State != ChallengeState.Waiting)
        {
            callBackHandover.Forget(Response, pending.Id);
        }

        return this.SeeOther(pending.VerificationSessionId is { } sessionId ? $"/verification/session/{sessionId}" : $"/verification/pending/{pending.Id}");
    }

    /// <summary>
    /// <c>recovery.idv</c> (docs/recovery.md): the caller goes through the identity verification their organisation set
    /// up at Okta; the pending page reads Okta's result for them from its System Log.
    /// </summary>
    [HttpPost("idv")]
    public Task<IActionResult> StartIdVerification([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? priorVerificationId) =>
        StartAsync(VerificationMethods.RecoveryIdVerification, callerRef, factorId, null, priorVerificationId);

    /// <summary>
    /// <c>recovery.manager</c> (docs/recovery.md): a push with number matching to the caller's manager as the IdP names
    /// them; the agent calls the manager at the number on file and reads out the number.
    /// </summary>
    [HttpPost("manager")]
    public Task<IActionResult> StartManagerApproval([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? priorVerificationId) =>
        StartAsync(VerificationMethods.RecoveryManager, callerRef, factorId, null, priorVerificationId);

    /// <summary>
    /// Starts a step-up sign-in, then goes to its page (Post/Redirect/Get). The link and its short code are never
    /// stored on the server: they travel to the agent's page in an encrypted cookie of this agent's browser only
    /// (<see cref="StepUpHandover"/>), so a reload or "Check now" keeps them for the agent to resend.
    /// </summary>
    [HttpPost("stepup")]
    public Task<IActionResult> StartStepUp([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? priorVerificationId) =>
        StartAsync(VerificationMethods.OidcStepUp, callerRef, factorId, null, priorVerificationId);

    [HttpPost("push")]
    public Task<IActionResult> StartPush([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? priorVerificationId) =>
        StartAsync(VerificationMethods.OktaPush, callerRef, factorId, null, priorVerificationId);

    /// <summary>
    /// <c>entra.push</c>: the request stays open until the caller answers on their phone (about a minute at most), then
    /// goes to the verification session, or to the finished push's page when it was denied or not answered.
    /// </summary>
    [HttpPost("entrapush")]
    public Task<IActionResult> StartEntraPush([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? priorVerificationId) =>
        StartAsync(VerificationMethods.EntraPush, callerRef, factorId, null, priorVerificationId);

    [HttpPost("totp")]
    public Task<IActionResult> VerifyTotp([FromForm] string? callerRef, [FromForm] string? factorId, [FromForm] string? code, [FromForm] string? priorVerificationId) =>
        StartAsync(VerificationMethods.OktaTotp, callerRef, factorId, code, priorVerificationId);

    /// <summary>
    /// Every method's start ends the same way: at the verification session, or at the challenge's page. A second method
    /// names the verification it follows (<paramref name="priorVerificationId"/>, docs/tenancy.md "Executive targets").
    /// </summary>
    private async Task<IActionResult> StartAsync(string method, string? callerRef, string? factorId, string? answer, string? priorVerificationId)
    {
        var (step, refusal) = await verification.StartAsync(Current, method, callerRef, factorId, answer, HttpContext.RequestAborted, string.IsNullOrEmpty(priorVerificationId) ? null : priorVerificationId);
        if (step is null)
        {
            return Refused(refusal!);
        }

        if (step.SessionId is { } sessionId)
        {
            return Redirect($"/verification/session/{sessionId}");
        }

        var pending = step.Pending!;
        if (step.StepUp is { } started)
        {
            handover.Keep(Response, Current.Agent, pending.Id, started, pending.ExpiresAt);
            return this.SeeOther($"/verification/pending/{pending.Id}");
        }

        if (step.ManagerCode is { } managerCode)
        {
            handover.KeepManagerCode(Response, Current.Agent, pending.Id, managerCode, pending.ExpiresAt);
            return this.SeeOther($"/verification/pending/{pending.Id}");
        }

        if (step.CallBackCode is { } code)
        {
            callBackHandover.Keep(Response, Current.Agent, pending.Id, code, pending.ExpiresAt);
            return this.SeeOther($"/verification/pending/{pending.Id}");
        }

        return Redirect($"/verification/pending/{pending.Id}");
    }

    [HttpGet("pending/{id}")]
    public async Task<IActionResult> Pending(string id)
    {
        var (agent, tenant) = Agent();
        var pending = ChallengeId.TryParse(id, out var challenge) ? await verification.GetPendingAsync(agent, challenge, HttpContext.RequestAborted) : null;
        if (pending is null)
        {
            return NotFound();
        }

        var page = (await WithStepUpAsync(agent, ToPage(pending, null))) with { Escalation = tenant.CallScripts.Escalation };
        if (pending.State == ChallengeState.Waiting && pending.Method == VerificationMethods.RecoveryManager)
        {
            // The manager as the IdP has them now (null when it did not answer: the page still shows the code to read out).
            var manager = await managerApproval.ManagerOfAsync(tenant, pending, HttpContext.RequestAborted);
            var bySignIn = ManagerApprovalMethod.BySignIn(tenant);
            if (manager is not null || bySignIn)
            {
                page = page with
                {
                    Manager = new ManagerContact(manager is null ? null : PiiMask.Email(manager.Login), manager?.Details.DisplayName, manager?.Details.WorkPhone)
                    {
                        BySignIn = bySignIn,
                        SignInCode = bySignIn ? handover.ReadManagerCode(Request, agent, pending.Id) : null,
                    },
                };
            }
        }

        return View(await WithCallBackAsync(agent, tenant, page, pending));
    }

    /// <summary>
    /// Polled by the pending page's script (and its no-script button). A POST with an antiforgery token:
    /// polling can open a verification session, which is a change of state.
    /// </summary>
    [HttpPost("pending/{id}/poll")]
    public async Task<IActionResult> Poll(string id)
    {
        var (agent, tenant) = Agent();
        if (!ChallengeId.TryParse(id, out var challenge))
        {
            return NotFound();
        }

        var (pending, refusal) = await verification.PollAsync(Current, challenge, HttpContext.RequestAborted);
        if (pending is null)
        {
            return NotFound();
        }

        var page = await WithStepUpAsync(agent, ToPage(pending, refusal));
        if (Request.Headers.Accept.ToString().Contains("application/json", StringComparison.Ordinal))
        {
            return Json(new
            {
                state = page.State.ToString(),
                label = page.StateText,
                message = refusal?.Message ?? page.Progress,
                next = page.VerificationSessionId is null ? null : $"/verification/session/{page.VerificationSessionId}",
            });
        }

        // "Check now" without script: Post/Redirect/Get, so the page keeps the step-up's link and code and F5 re-posts nothing.
        if (refusal is not null)
        {
            return View(nameof(Pending), page);
        }

        return this.SeeOther(page.VerificationSessionId is not null ? $"/verification/session/{page.VerificationSessionId}" : $"/verification/pending/{page.Id}");
    }

    [HttpGet("session/{id}")]
    public async Task<IActionResult> Session(string id)
    {
        var (agent, tenant) = Agent();
        var session = VerificationId.TryParse(id, out var verificationId) ? await verification.GetSessionAsync(agent, verificationId, HttpContext.RequestAborted) : null;
        if (session is null)
        {
            return Refused(new Refusal("no_verification", "This verification has expired or is not yours. Verify the caller again."), StatusCodes.Status404NotFound);
        }

        var held = PermissionHandler.PermissionsOf(tenant, agent.Tiers);
        // The tenant's policy, the same the action itself checks: no button leads to a refusal the page could have known.
        var actions = CallerAction.All.Where(a => held.Contains(a.Permission))
            .Select(a => new SessionAction(a, a.AcceptedMethodsFor(tenant), session.UsedActions.Contains(a.Name)) { ConnectionUnavailable = connection.WhyUnavailable(tenant.Id, a.Operation) })
            .ToList();
        string? note = null;
        if (actions.Any(a => a.Action == CallerAction.PasswordReset || a.Action == CallerAction.Unlock)
            && await verification.GetCallerNowAsync(tenant, session, HttpContext.RequestAborted) is { } caller)
        {
            if (caller.DirectorySynced && actions.Any(a => a.Action == CallerAction.PasswordReset))
            {
                // Graph refuses a cloud password for a synced user: offer what works instead of a reset that fails.
                actions.RemoveAll(a => a.Action == CallerAction.PasswordReset);
                note = CallerView.SyncedPasswordNote;
            }

            // Unlock is offered only to a locked-out account: on any other there is nothing to unlock.
            var unlock = actions.FindIndex(a => a.Action == CallerAction.Unlock);
            if (unlock >= 0 && caller.Status != CallerStatus.LockedOut && actions[unlock].ConnectionUnavailable is null)
            {
                actions[unlock] = actions[unlock] with { NotNeeded = $"The account is not locked out (the identity provider says {StatusLabels.Name(caller.Status)} now): there is nothing to unlock." };
            }
        }

        // The executive-target rule (docs/tenancy.md), read as the action reads it: no action offered that it would refuse.
        var executive = await verification.ExecutiveChainAsync(tenant, session, HttpContext.RequestAborted);
        if (executive is ExecutiveChain.NeedsSecond or ExecutiveChain.PriorEnded)
        {
            var why = executive == ExecutiveChain.NeedsSecond
                ? "Executive target: verify the caller by a second, different method first."
                : "Executive target: the first verification has ended; verify the caller again.";
            actions = [.. actions.Select(a => a with { SecondMethodNeeded = why })];
        }

        return View(new SessionPage(session.Id, session.CallerMaskedLogin, session.Method, session.VerifiedAt, session.ExpiresAt, actions)
        {
            Executive = executive,
            PriorMethod = session.PriorMethod,
            PasswordResetNote = note,
            TicketRef = session.TicketRef,
            Done = session.Done,
        });
    }

    /// <summary>A waiting call-back's code (from this agent's cookie) and the caller's work phone on file, read from the IdP now.</summary>
    private async Task<PendingPage> WithCallBackAsync(AgentContext agent, TenantSettings tenant, PendingPage page, PendingVerification pending)
    {
        if (page.Method != VerificationMethods.RecoveryCallBack)
        {
            return page;
        }

        if (page.State != ChallengeState.Waiting)
        {
            // Ended without a verification: the agent may still reach who answers the number on file, and hear they never called.
            return page.State == ChallengeState.Approved || page.FailureReason == CallBackMethod.NotMe ? page : page with { CallBack = new CallBackContact(null, null) { Ended = true } };
        }

        var caller = await verification.GetCallerNowAsync(tenant, pending, HttpContext.RequestAborted);
        var code = callBackHandover.Read(Request, agent, page.Id);
        var phone = caller?.Details.WorkPhone;
        return page with
        {
            CallBack = new CallBackContact(code is null ? null : CallBackMethod.Spoken(code), phone)
            {
                NumberChanged = phone is not null && !callBack.IsNumberAtStart(tenant, pending, phone),
            },
        };
    }

    /// <summary>A step-up's link and code (from this agent's cookie) and what the caller has done with the link so far.</summary>
    private async Task<PendingPage> WithStepUpAsync(AgentContext agent, PendingPage page)
    {
        if (page.Method != VerificationMethods.OidcStepUp || handover.Read(Request, agent, page.Id) is not { } shown)
        {
            return page;
        }

        string? progress = null;
        if (page.State == ChallengeState.Waiting && await stepUpLinks.GetLinkAsync(shown.Token, HttpContext.RequestAborted) is { } link)
        {
            progress = link.Used
                ? "The caller typed the code and is signing in to their own account."
                : link.WrongCodes > 0
                    ? $"The caller typed a wrong code ({link.WrongCodes} of {StepUpStore.MaxWrongCodes} tries). Read the code again, one character at a time."
                    : null;
        }

        return page with { StepUpLink = shown.Link, StepUpCode = shown.Code, Progress = progress };
    }

    private static PendingPage ToPage(PendingVerification p, Refusal? refusal) =>
        new(p.Id, p.CallerMaskedLogin, p.CorrectAnswer, p.State, p.ExpiresAt, p.VerificationSessionId, refusal, p.Method, p.FailureReason);

    private ViewResult Refused(Refusal refusal, int status = StatusCodes.Status422UnprocessableEntity)
    {
        Response.StatusCode = status;
        return View("Refused", refusal);
    }

    private (AgentContext Agent, TenantSettings Tenant) Agent()
    {
        var agent = Current.Agent;
        return (agent, Current.Tenant);
    }
}
