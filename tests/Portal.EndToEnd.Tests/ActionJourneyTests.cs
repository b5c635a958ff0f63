using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Portal.Audit;
using static Microsoft.Playwright.Assertions;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// What an agent may do once the caller is verified, in Chromium: a Tier 1 agent verifies but is offered no action,
/// and one posted anyway is refused; an action on a privileged caller waits for a second agent's approval, given in
/// another browser profile; the result pages of a password reset and a session revocation, and what F5 does to
/// them. Each test verifies a caller of its own by push (answered at the emulator), so no test limits another's.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ActionJourneyTests(ChromiumFixture chromium, PortalServer portal) : IClassFixture<PortalServer>
{
    private const string Erin = "erin.admin@demo.example";

    [Fact]
    public async Task Tier1_LooksUpAndVerifies_NoActionOffered_ActionPostedAnywayRefusedAndRecorded()
    {
        var login = portal.Emulator.State.AddCaller("tina.tierone@demo.example", "tina.tierone@demo.example", "Tina", "Tierone", push: true).Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier One Agent");
        await agent.LookUpAsync(login);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send push" })).ToBeVisibleAsync();
        await agent.CheckPageAsync("tier 1: console with a caller");

        var verificationId = await VerifyByPushAsync(agent, login);
        await Expect(page.GetByText("Your tier allows no actions on accounts. Hand the call over to a higher tier.")).ToBeVisibleAsync();
        await Expect(page.Locator("form.action")).ToHaveCountAsync(0);
        foreach (var title in new[] { "Reset password", "Sign out everywhere", "Unlock account", "Reset MFA factors", "Issue temporary access code" })
        {
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = title })).ToHaveCountAsync(0);
        }

        await agent.CheckPageAsync("tier 1: verified, no action offered");

        // What a curious agent could do from the browser's tools: post the reset form the page did not offer, with
        // the page's own antiforgery token and the live verification. The server refuses it by the agent's tier.
        await page.EvaluateAsync(
            """
            ([id]) => {
                const token = document.querySelector("input[name='__RequestVerificationToken']").value;
                const form = document.createElement("form");
                form.method = "post";
                form.action = "/actions/password-reset";
                for (const [name, value] of [["__RequestVerificationToken", token], ["verificationId", id], ["kind", "TemporaryPassword"]]) {
                    const input = document.createElement("input");
                    input.type = "hidden";
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }
            """,
            new object[] { verificationId });
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not allowed" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='missing-permission']")).ToContainTextAsync("Your tier does not include Reset passwords (action.password_reset).");
        Assert.Equal(0, portal.Emulator.State.FindCaller(login)!.PasswordResets);
        var denied = await portal.Services.GetRequiredService<IAuditTrail>().QueryAsync(
            PortalServer.TenantId, new AuditQuery { Action = "access.denied", Outcome = AuditOutcome.Denied, PageSize = 50 });
        Assert.Contains(denied.Records, r => r.Reason == "missing:action.password_reset");
        await agent.CheckPageAsync("tier 1: action refused");
        agent.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task PrivilegedCaller_ActionWaitsForASecondAgentsApproval_ThenGoesThroughOnce()
    {
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(Erin);
        var verificationId = await VerifyByPushAsync(agent, Erin);
        var sessionUrl = page.Url;

        await SubmitRevokeAsync(page, "INC-4001");
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This caller is a privileged account: Sign out everywhere needs a second agent's approval");
        await Expect(page.GetByRole(AriaRole.Alert)).ToBeFocusedAsync(); // the refusal, not the heading, is what the agent hears first
        await Expect(page.Locator("[data-field='approval']")).ToContainTextAsync("This page moves on by itself when they decide.");
        var resultUrl = page.Url;
        Assert.Equal(0, portal.Emulator.State.FindCaller(Erin)!.SessionsRevoked);
        await agent.CheckPageAsync("privileged: approval needed");

        // The requester sees their request in the queue, and cannot approve it.
        await page.GotoAsync("/approvals");
        var mine = page.Locator("tbody tr").Filter(new() { HasText = "e***@d***.example" });
        await Expect(mine).ToHaveCountAsync(1);
        await Expect(mine).ToContainTextAsync("Sign out everywhere");
        await Expect(mine).ToContainTextAsync("INC-4001");
        await Expect(mine).ToContainTextAsync("Okta Verify push with number matching");
        await Expect(mine).ToContainTextAsync("Yours: waiting for a colleague");
        await Expect(mine.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToHaveCountAsync(0);
        await agent.CheckPageAsync("approvals: the requester's view");

        // Back on the result page, the requester waits; a second agent, in a browser of their own, approves it.
        await page.GotoAsync(resultUrl);
        await Expect(page.Locator("[data-field='approval']")).ToContainTextAsync("Waiting for a colleague's decision");
        await using var colleague = await AgentBrowser.OpenAsync(chromium, portal);
        await colleague.SignInAsync("Tier Two Agent");
        await colleague.Page.GotoAsync("/approvals");
        var request = colleague.Page.Locator("tbody tr").Filter(new() { HasText = "e***@d***.example" });
        await Expect(request).ToHaveCountAsync(1);
        await Expect(request.Locator("[data-field='requester']")).ToHaveTextAsync("Tier Three Agent");
        await colleague.CheckPageAsync("approvals: a colleague's view");
        await request.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(colleague.Page.Locator("[data-field='message']")).ToHaveTextAsync("Approved. The requesting agent can now submit the action once.");
        await Expect(colleague.Page.GetByText("No request is waiting.")).ToBeVisibleAsync();
        await colleague.CheckPageAsync("approvals: approved");
        Assert.Equal(0, portal.Emulator.State.FindCaller(Erin)!.SessionsRevoked);

        // The requester's page moves on by itself (no click, no reload by the agent) and leads back to the caller.
        await Expect(page.Locator("[data-field='approval']")).ToContainTextAsync("Approved by Tier Two Agent.", new() { Timeout = 15_000 });
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);

        // That reload was the page's own (watch.js), not the agent's: focus.js leaves the focus where the browser put it.
        await page.WaitForLoadStateAsync(LoadState.Load);
        Assert.Equal("BODY", await page.EvaluateAsync<string>("document.activeElement.tagName"));
        await agent.CheckPageAsync("privileged: approved, requester's page moved on");
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the verified caller to submit" }).ClickAsync();

        // The first agent submits again within the same verification: it goes through, once.
        await Expect(page).ToHaveURLAsync(sessionUrl);
        await SubmitRevokeAsync(page, "INC-4001");
        await Expect(page.Locator("[data-outcome='succeeded']")).ToHaveTextAsync("Every session of the caller was ended.");
        Assert.Equal(1, portal.Emulator.State.FindCaller(Erin)!.SessionsRevoked);
        Assert.EndsWith(verificationId, sessionUrl, StringComparison.Ordinal);
        await agent.CheckPageAsync("privileged: approved action done");

        agent.AssertPagesRanCleanly();
        colleague.AssertPagesRanCleanly();
    }

    /// <summary>
    /// The approval asked for at look-up: the colleague decides while the agent verifies the caller, so the action goes
    /// through at its first submission.
    /// </summary>
    [Fact]
    public async Task PrivilegedCaller_ApprovalAskedAtLookup_DecidedWhileVerifying_ActionGoesThroughAtOnce()
    {
        var login = portal.Emulator.State.AddCaller("ava.ahead@demo.example", "ava.ahead@demo.example", "Ava", "Ahead", push: true).Login;
        portal.Emulator.State.AssignRole(login, "SUPER_ADMIN");
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(login);

        var revoke = page.Locator("[data-field='approvals'] li[data-action='sessions_revoke']");
        await revoke.GetByRole(AriaRole.Button, new() { Name = "Ask for approval now" }).ClickAsync();
        await Expect(page.Locator("[data-field='message']")).ToHaveTextAsync("Asked for a colleague's approval of Sign out everywhere. Verify the caller meanwhile; the approval waits in the approval queue.");
        await Expect(revoke).ToHaveAttributeAsync("data-approval", "Pending");
        await agent.CheckPageAsync("privileged: approval asked at look-up");
        await agent.ScreenshotAsync("approval-asked-at-lookup");

        await using var colleague = await AgentBrowser.OpenAsync(chromium, portal);
        await colleague.SignInAsync("Tier Two Agent");
        await colleague.Page.GotoAsync("/approvals");
        var request = colleague.Page.Locator("tbody tr").Filter(new() { HasText = "a***@d***.example" });
        await Expect(request.Locator("[data-field='verified']")).ToContainTextAsync("Not yet: asked at look-up");
        await request.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(colleague.Page.Locator("[data-field='message']")).ToHaveTextAsync("Approved. The requesting agent can submit the action once, after verifying the caller.");

        await VerifyByPushAsync(agent, login);
        await SubmitRevokeAsync(page, "INC-4100");
        await Expect(page.Locator("[data-outcome='succeeded']")).ToHaveTextAsync("Every session of the caller was ended.");
        Assert.Equal(1, portal.Emulator.State.FindCaller(login)!.SessionsRevoked);

        agent.AssertPagesRanCleanly();
        colleague.AssertPagesRanCleanly();
    }

    [Fact]
    public async Task ResultPages_TemporaryPasswordShownOnce_SessionsEnded_F5DoesNotActTwice()
    {
        var login = portal.Emulator.State.AddCaller("rhea.quince@demo.example", "rhea.quince@demo.example", "Rhea", "Quince", push: true).Login;
        await using var agent = await AgentBrowser.OpenAsync(chromium, portal);
        var page = agent.Page;
        await agent.SignInAsync("Tier Three Agent");
        await agent.LookUpAsync(login);
        await VerifyByPushAsync(agent, login);

        var reset = page.Locator("form[data-action='password_reset']");
        await reset.GetByLabel("Temporary password, read out once").CheckAsync();
        await reset.GetByLabel("Ticket").FillAsync("INC-5001");
        await reset.GetByRole(AriaRole.Button, new() { Name = "Reset password" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/actions/result/[0-9a-f]{32}$"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reset password" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-outcome='succeeded']")).ToContainTextAsync("Read the temporary password to the caller now");
        await Expect(page.GetByText("Temporary password, shown once")).ToBeVisibleAsync();
        var secret = (await page.Locator("[data-field='secret']").InnerTextAsync()).Trim();
        Assert.True(secret.Length >= 8, $"The temporary password shown is '{secret}'.");

        // Read aloud: in blocks of four, spelt out on demand with the case of every letter, and copyable.
        await Expect(page.Locator("[data-field='secret'] .secret-group")).ToHaveCountAsync((secret.Length + 3) / 4);
        var spelling = page.Locator("[data-field='secret-spelling'] li");
        await Expect(spelling.First).Not.ToBeVisibleAsync();
        await page.GetByText("Spell it out (NATO alphabet)").ClickAsync();
        await Expect(spelling).ToHaveCountAsync(secret.Length);
        await Expect(spelling.First).ToHaveTextAsync(new Regex("^" + Regex.Escape(secret[..1]) + " (capital [A-Z]|small [a-z]|zero|one|two|three|four|five|six|seven|eight|nine|dash|underscore|dot|the symbol |[a-z])"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.Locator("[data-field='copy-status']")).ToHaveTextAsync(new Regex(@"^(Copied\.|Selected: press Ctrl\+C to copy\.)$"));
        await agent.ScreenshotAsync("temporary-password");
        Assert.Equal(1, portal.Emulator.State.FindCaller(login)!.TemporaryPasswordsIssued);
        await agent.CheckPageAsync("result: temporary password");

        // F5 on the result (Post/Redirect/Get): the browser asks for the result page again and posts nothing. The
        // outcome is still there, the secret is not, and neither the IdP nor the audit trail saw a second attempt.
        await page.ReloadAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/actions/result/[0-9a-f]{32}$"));
        await Expect(page.Locator("[data-outcome='succeeded']")).ToContainTextAsync("The password was reset.");
        await Expect(page.Locator("[data-field='secret']")).ToHaveCountAsync(0);
        await Expect(page.GetByText(secret)).ToHaveCountAsync(0);
        await Expect(page.Locator("[data-field='secret-gone']")).ToContainTextAsync("The temporary password was shown once and is not shown again.");
        Assert.Equal(1, portal.Emulator.State.FindCaller(login)!.TemporaryPasswordsIssued);
        var resets = await portal.Services.GetRequiredService<IAuditTrail>().QueryAsync(
            PortalServer.TenantId, new AuditQuery { Action = "action.password_reset", PageSize = 50 });
        Assert.Equal(AuditOutcome.Succeeded, Assert.Single(resets.Records, r => r.TicketRef == "INC-5001").Outcome);
        await agent.CheckPageAsync("result: temporary password, after F5");

        // Back to the verified caller: the reset is done, the revocation is still offered.
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the verified caller" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(reset).ToHaveAttributeAsync("data-offered", "false");
        await Expect(reset.GetByRole(AriaRole.Button, new() { Name = "Done" })).ToBeDisabledAsync();
        await Expect(page.Locator("form[data-action='sessions_revoke']")).ToHaveAttributeAsync("data-offered", "true");

        // One ticket per call: the revocation is prefilled with the reset's; the summary says what was done, copyable.
        await Expect(page.Locator("form[data-action='sessions_revoke']").GetByLabel("Ticket")).ToHaveValueAsync("INC-5001");
        var summary = page.Locator("[data-field='call-summary']");
        await Expect(summary).ToContainTextAsync(new Regex(@"Reset password: done at \d{2}:\d{2} UTC\.\s+Ticket: INC-5001\."));
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy summary" }).ClickAsync();
        await Expect(page.Locator("[data-field='call-summary'] ~ [data-field='copy-status']")).ToHaveTextAsync(new Regex(@"^(Copied\.|Selected: press Ctrl\+C to copy\.)$"));
        await agent.CheckPageAsync("verified caller: call summary");

        // The reset itself ended the caller's sessions at Okta (revokeSessions=true): count from here.
        var revokedBefore = portal.Emulator.State.FindCaller(login)!.SessionsRevoked;
        await SubmitRevokeAsync(page, "INC-5001");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign out everywhere" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-outcome='succeeded']")).ToHaveTextAsync("Every session of the caller was ended.");
        await Expect(page.Locator("[data-field='secret']")).ToHaveCountAsync(0);
        Assert.Equal(revokedBefore + 1, portal.Emulator.State.FindCaller(login)!.SessionsRevoked);
        await agent.CheckPageAsync("result: sessions ended");

        await page.ReloadAsync();
        await Expect(page.Locator("[data-outcome='succeeded']")).ToHaveTextAsync("Every session of the caller was ended.");
        Assert.Equal(revokedBefore + 1, portal.Emulator.State.FindCaller(login)!.SessionsRevoked);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Back to the verified caller" })).ToBeVisibleAsync();
        await agent.CheckPageAsync("result: sessions ended, after F5");
        agent.AssertPagesRanCleanly();
    }

    private async Task<string> VerifyByPushAsync(AgentBrowser agent, string login)
    {
        await agent.SendPushAsync();
        var push = Assert.Single(portal.Emulator.State.PendingPushes(login));
        Assert.True(portal.Emulator.State.AnswerPush(push.TransactionId, push.CorrectAnswer));
        await Expect(agent.Page).ToHaveURLAsync(new Regex("/verification/session/[0-9a-f]+$"));
        await Expect(agent.Page.GetByRole(AriaRole.Heading, new() { Name = "Verified:" })).ToBeVisibleAsync();
        return new Uri(agent.Page.Url).Segments[^1];
    }

    private static async Task SubmitRevokeAsync(IPage page, string ticket)
    {
        var revoke = page.Locator("form[data-action='sessions_revoke']");
        await revoke.GetByRole(AriaRole.Checkbox).CheckAsync();
        await revoke.GetByLabel("Ticket").FillAsync(ticket);
        await revoke.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/actions/result/[0-9a-f]{32}$"));
    }
}
