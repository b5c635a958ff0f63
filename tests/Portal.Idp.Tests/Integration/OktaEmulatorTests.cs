using System.Globalization;
using Portal.IdpEmulator;

namespace Portal.Idp.Tests.Integration;

[Collection(EmulatorCollection.Name)]
public sealed class OktaEmulatorTests(EmulatorFixture emulator)
{
    private const string Alice = "alice.caller@demo.example";
    private const string TotpType = "token:software:totp";
    private static readonly ChallengeContext Context = new("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edge/126.0", "198.51.100.20");

    private ICallerDirectory Directory => emulator.Directory;

    [Fact]
    public async Task FindCallerAsync_ByLogin_ReturnsCaller()
    {
        var result = await Directory.FindCallerAsync(Alice);

        Assert.True(result.IsSuccess);
        Assert.Equal(new CallerProfile(emulator.IdOf(Alice), Alice, Alice, CallerStatus.Active), result.Value with { Details = CallerDetails.None });
        Assert.Equal("Alice Caller", result.Value.Details.DisplayName);
        Assert.Equal("Payroll Specialist", result.Value.Details.Title);
        Assert.Equal("Finance", result.Value.Details.Department);
        Assert.Equal("Morgan Lead", result.Value.Details.Manager);
        Assert.NotNull(result.Value.Details.LastSignInAt);
        Assert.NotNull(result.Value.Details.PasswordChangedAt);
    }

    [Fact]
    public async Task GetCallerAsync_AnAgentsId_NamesTheAgent_AsOktaReadsAnyUserOfTheOrg()
    {
        var agent = emulator.State.Agents.First(a => a.Email == "tier3.agent@demo.example");

        var result = await Directory.GetCallerAsync(agent.Subject);

        Assert.True(result.IsSuccess);
        Assert.Equal("tier3.agent@demo.example", result.Value.Login);
        Assert.Equal("Tier Three Agent", result.Value.Details.DisplayName);
    }

    [Fact]
    public async Task ListFactorsAsync_EachFactor_CarriesItsEnrolmentDate()
    {
        var result = await Directory.ListFactorsAsync(emulator.IdOf(Alice));

        Assert.True(result.IsSuccess);
        Assert.All(result.Value, f => Assert.NotNull(f.EnrolledAt));
    }

    [Fact]
    public async Task FindCallerAsync_ByEmailDifferentFromLogin_ReturnsCaller()
    {
        var login = $"t{Guid.NewGuid():N}";
        var email = login + "@mail.demo.example";
        var caller = emulator.State.AddCaller(login, email, "Test", "Caller");

        var result = await Directory.FindCallerAsync("  " + email.ToUpperInvariant() + " ");

        Assert.Equal(caller.Id, result.Value.Id);
        Assert.Equal(login, result.Value.Login);
        Assert.Equal(email, result.Value.Email);
    }

    [Fact]
    public async Task FindCallerAsync_LockedOutCaller_StatusLockedOut()
    {
        var result = await Directory.FindCallerAsync("dave.caller@demo.example");

        Assert.Equal(CallerStatus.LockedOut, result.Value.Status);
    }

    [Fact]
    public async Task FindCallerAsync_Unknown_NotFound()
    {
        var result = await Directory.FindCallerAsync("nobody@demo.example");

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
    }

    [Fact]
    public async Task FindCallerAsync_InjectionString_ReachesEmulatorEscapedAndMatchesNobody()
    {
        const string Typed = "x\" or profile.login sw \"a";

        var result = await Directory.FindCallerAsync(Typed);

        // Unescaped, the expression would match every login starting with "a" (alice).
        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        var sent = emulator.State.Requests.Last(r => r.Method == "GET" && r.PathAndQuery.StartsWith("/api/v1/users?", StringComparison.Ordinal));
        Assert.Contains(Uri.EscapeDataString("\"x\\\" or profile.login sw \\\"a\""), sent.PathAndQuery, StringComparison.Ordinal);
        Assert.DoesNotContain("\"", sent.PathAndQuery, StringComparison.Ordinal);
        Assert.DoesNotContain(" ", sent.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindCallerAsync_LoginWithQuoteAndBackslash_FoundExactly()
    {
        var login = $"o\"brien\\{Guid.NewGuid():N}@demo.example";
        var caller = emulator.State.AddCaller(login, login, "Test", "Caller");

        var result = await Directory.FindCallerAsync(login);

        Assert.Equal(caller.Id, result.Value.Id);
        Assert.Equal(login, result.Value.Login);
    }

    [Fact]
    public async Task GetCallerAsync_Id_ReturnsCaller()
    {
        var result = await Directory.GetCallerAsync(emulator.IdOf(Alice));

        Assert.Equal(Alice, result.Value.Login);
    }

    [Fact]
    public async Task GetCallerAsync_UnknownId_NotFound()
    {
        var result = await Directory.GetCallerAsync("00uDoesNotExist12345");

        Assert.Equal(IdpErrorKind.NotFound, result.Error?.Kind);
        Assert.Equal("E0000007", result.Error?.Code);
    }

    public static TheoryData<string, string[]> SeededFactors => new()
    {
        { "alice.caller@demo.example", ["Push OKTA okta.push -", "Totp OKTA okta.totp -"] },
        { "bob.caller@demo.example", ["Totp GOOGLE okta.totp -"] },
        {
            "carol.caller@demo.example",
            [
                "Sms OKTA - SMS/voice/e-mail codes are restricted authenticators and are not accepted",
                "Email OKTA - SMS/voice/e-mail codes are restricted authenticators and are not accepted",
            ]
        },
        { "dave.caller@demo.example", ["Push OKTA okta.push -", "Totp OKTA okta.totp -"] },
        { "erin.admin@demo.example", ["Push OKTA okta.push -", "Totp OKTA okta.totp -"] },
        { "vera.exec@demo.example", ["Push OKTA okta.push -", "Totp OKTA okta.totp -"] },
        {
            "frank.caller@demo.example",
            [
                "Push OKTA - not active (status PENDING_ACTIVATION)",
                "SignedNonce OKTA - Okta FastPass cannot be challenged remotely",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(SeededFactors))]
    public async Task ListFactorsAsync_SeededCaller_Classified(string login, string[] expected)
    {
        var result = await Directory.ListFactorsAsync(emulator.IdOf(login));

        var actual = result.Value.Select(f => $"{f.Kind} {f.Provider} {f.Method ?? "-"} {f.NotChallengeableReason ?? "-"}").Order(StringComparer.Ordinal);
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual);
        Assert.Equal(emulator.State.FindCaller(login)!.Factors.Select(f => f.Id).Order(StringComparer.Ordinal), result.Value.Select(f => f.Id).Order(StringComparer.Ordinal));
    }

    /// <summary>The demo executive target (docs/tenancy.md): Okta lists her in the group the demo tenant names in ExecutiveTargets:Groups; Alice in none.</summary>
    [Fact]
    public async Task ListGroupsAsync_SeededExecutive_InTheExecutivesGroup_AliceNot()
    {
        var vera = await Directory.ListGroupsAsync(emulator.IdOf("vera.exec@demo.example"));
        var alice = await Directory.ListGroupsAsync(emulator.IdOf(Alice));

        Assert.True(vera.IsSuccess);
        Assert.Contains(DemoTenants.ExecutivesGroup, vera.Value);
        Assert.DoesNotContain(DemoTenants.ExecutivesGroup, alice.Value);
    }

    [Fact]
    public async Task PushFlow_RightNumber_Approved()
    {
        var challenge = await StartAlicePush();
        var pending = emulator.State.PendingPushes(Alice).Single(p => p.CorrectAnswer == challenge.CorrectAnswer && challenge.PollReference.EndsWith(p.TransactionId, StringComparison.Ordinal));

        var before = await Directory.PollPushAsync(emulator.IdOf(Alice), challenge.PollReference);
        Assert.True(emulator.State.AnswerPush(pending.TransactionId, challenge.CorrectAnswer));
        var after = await Directory.PollPushAsync(emulator.IdOf(Alice), challenge.PollReference);

        Assert.Equal(PushState.Waiting, before.Value);
        Assert.Equal(PushState.Approved, after.Value);
        Assert.Contains(pending.Choices, n => n == challenge.CorrectAnswer);
    }

    [Fact]
    public async Task PushFlow_WrongNumber_Rejected()
    {
        var challenge = await StartAlicePush();
        var pending = emulator.State.PendingPushes(Alice).Single(p => challenge.PollReference.EndsWith(p.TransactionId, StringComparison.Ordinal));

        Assert.True(emulator.State.AnswerPush(pending.TransactionId, pending.Choices.First(n => n != challenge.CorrectAnswer)));
        var result = await Directory.PollPushAsync(emulator.IdOf(Alice), challenge.PollReference);

        Assert.Equal(PushState.Rejected, result.Value);
    }

    [Fact]
    public async Task PushFlow_Denied_Rejected()
    {
        var challenge = await StartAlicePush();
        var pending = emulator.State.PendingPushes(Alice).Single(p => challenge.PollReference.EndsWith(p.TransactionId, StringComparison.Ordinal));

        Assert.True(emulator.State.DenyPush(pending.TransactionId));
        var result = await Directory.PollPushAsync(emulator.IdOf(Alice), challenge.PollReference);

        Assert.Equal(PushState.Rejected, result.Value);
    }

    [Fact]
    public async Task PushFlow_StartRequest_CarriesUserAgentAndNumberMatching()
    {
        await StartAlicePush();

        var sent = emulator.State.Requests.Last(r => r.Method == "POST" && r.PathAndQuery.EndsWith("/verify", StringComparison.Ordinal));
        Assert.Contains("\"useNumberMatchingChallenge\":true", sent.Body, StringComparison.Ordinal);
        Assert.Equal($"/api/v1/users/{emulator.IdOf(Alice)}/factors/{emulator.FactorOf(Alice, "push")}/verify", sent.PathAndQuery);
    }

    [Fact]
    public async Task PollPushAsync_OtherCallersReference_RefusedWithoutRequest()
    {
        var challenge = await StartAlicePush();
        var count = emulator.State.Requests.Count;

        var result = await Directory.PollPushAsync(emulator.IdOf("bob.caller@demo.example"), challenge.PollReference);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal(count, emulator.State.Requests.Count);
    }

    [Fact]
    public async Task StartPushAsync_PendingActivationFactor_Invalid()
    {
        const string Frank = "frank.caller@demo.example";

        var result = await Directory.StartPushAsync(emulator.IdOf(Frank), emulator.FactorOf(Frank, "push"), Context);

        Assert.Equal(IdpErrorKind.Invalid, result.Error?.Kind);
        Assert.Equal("E0000001", result.Error?.Code);
    }

    [Fact]
    public async Task VerifyTotpAsync_CurrentCode_Accepted()
    {
        var caller = emulator.NewCaller();

        var result = await Directory.VerifyTotpAsync(caller.Id, caller.Factors[0].Id, emulator.State.CurrentTotp(caller.Login), Context);

        Assert.Equal(TotpOutcome.Accepted, result.Value);
    }

    [Fact]
    public async Task VerifyTotpAsync_WrongCode_Invalid()
    {
        var caller = emulator.NewCaller();
        var now = DateTimeOffset.UtcNow;
        var nearby = new[] { -60, -30, 0, 30, 60 }.Select(s => emulator.State.TotpAt(caller.Login, now.AddSeconds(s))).ToHashSet();
        var wrong = Enumerable.Range(0, 100).Select(i => ((i * 7919) + 13).ToString("D6", CultureInfo.InvariantCulture)).First(c => !nearby.Contains(c));

        var result = await Directory.VerifyTotpAsync(caller.Id, caller.Factors[0].Id, wrong, Context);

        Assert.Equal(TotpOutcome.Invalid, result.Value);
    }

    [Fact]
    public async Task VerifyTotpAsync_SameCodeTwice_Replayed()
    {
        var caller = emulator.NewCaller();
        var code = emulator.State.CurrentTotp(caller.Login);

        var first = await Directory.VerifyTotpAsync(caller.Id, caller.Factors[0].Id, code, Context);
        var second = await Directory.VerifyTotpAsync(caller.Id, caller.Factors[0].Id, code, Context);

        Assert.Equal(TotpOutcome.Accepted, first.Value);
        Assert.Equal(TotpOutcome.Replayed, second.Value);
    }

    [Fact]
    public async Task VerifyTotpAsync_GoogleAuthenticator_Accepted()
    {
        const string Bob = "bob.caller@demo.example";

        var result = await Directory.VerifyTotpAsync(emulator.IdOf(Bob), emulator.FactorOf(Bob, TotpType), emulator.State.CurrentTotp(Bob), Context);

        // Bob's code may already have been used by a re-run within the same 30 s; both prove Okta checked it.
        Assert.True(result.IsSuccess);
        Assert.Contains(result.Value, new[] { TotpOutcome.Accepted, TotpOutcome.Replayed });
    }

    [Fact]
    public async Task ResetPasswordAsync_SendEmail_CallerInRecovery()
    {
        var caller = emulator.NewCaller();

        var result = await Directory.ResetPasswordAsync(caller.Id, PasswordResetKind.SendEmail);

        Assert.Equal(new PasswordResetOutcome(PasswordResetKind.SendEmail, null), result.Value);
        Assert.Equal(1, caller.PasswordResets);
        Assert.Equal("RECOVERY", caller.Status);
    }

    [Fact]
    public async Task ResetPasswordAsync_OneTimeLink_ReturnsLinkOnce()
    {
        var caller = emulator.NewCaller();

        var result = await Directory.ResetPasswordAsync(caller.Id, PasswordResetKind.OneTimeLink);

        Assert.StartsWith(emulator.Host.BaseUrl + "reset_password/", result.Value.OneTimeSecret, StringComparison.Ordinal);
        Assert.Equal(1, caller.PasswordResets);
        Assert.DoesNotContain(result.Value.OneTimeSecret!, result.Value.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetPasswordAsync_TemporaryPassword_ReturnsPasswordAndRevokesSessions()
    {
        var caller = emulator.NewCaller();

        var result = await Directory.ResetPasswordAsync(caller.Id, PasswordResetKind.TemporaryPassword);

        Assert.False(string.IsNullOrEmpty(result.Value.OneTimeSecret));
        Assert.Equal(1, caller.TemporaryPasswordsIssued);
        Assert.Equal(1, caller.SessionsRevoked);
        Assert.Equal("PASSWORD_EXPIRED", caller.Status);
    }

    [Fact]
    public async Task RevokeSessionsAsync_Caller_SessionsRevoked()
    {
        var caller = emulator.NewCaller();

        var result = await Directory.RevokeSessionsAsync(caller.Id);

        Assert.True(result.IsSuccess);
        Assert.Equal(1, caller.SessionsRevoked);
        Assert.Contains(emulator.State.Requests, r => r.Method == "DELETE" && r.PathAndQuery == $"/api/v1/users/{caller.Id}/sessions?oauthTokens=true");
    }

    [Fact]
    public async Task UnlockAsync_LockedOut_Active()
    {
        var caller = emulator.NewCaller("LOCKED_OUT");

        var result = await Directory.UnlockAsync(caller.Id);

        Assert.True(result.IsSuccess);
        Assert.Equal(1, caller.Unlocks);
        Assert.Equal("ACTIVE", caller.Status);
    }

    [Fact]
    public async Task UnlockAsync_ActiveUser_SucceedsAsOktaAllowsIt()
    {
        var caller = emulator.NewCaller();

        var result = await Directory.UnlockAsync(caller.Id);

        Assert.True(result.IsSuccess);
        Assert.Equal("ACTIVE", caller.Status);
    }

    [Theory]
    [InlineData("STAGED", "STAGED")]
    [InlineData("PROVISIONED", "PROVISIONED")]
    [InlineData("SUSPENDED", "SUSPENDED")]
    [InlineData("DEPROVISIONED", "DEPROVISIONED")]
    public async Task ResetPasswordAsync_LifecycleStatus_ConflictNamingTheStatus(string status, string named)
    {
        var caller = emulator.NewCaller(status);

        var result = await Directory.ResetPasswordAsync(caller.Id, PasswordResetKind.SendEmail);

        Assert.Equal(IdpErrorKind.Conflict, result.Error?.Kind);
        Assert.Equal("E0000038", result.Error?.Code);
        Assert.Contains(named, result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("super-admin", result.Error?.AgentMessage, StringComparison.Ordinal);
        Assert.Equal(0, caller.PasswordResets);
    }

    [Fact]
    public async Task UnlockAsync_DirectorySourcedUser_ConflictSayingUnlockItInTheDirectory()
    {
        var caller = emulator.NewCaller("LOCKED_OUT");
        emulator.State.SetCredentialsProvider(caller.Login, "ACTIVE_DIRECTORY");

        var result = await Directory.UnlockAsync(caller.Id);

        Assert.Equal(IdpErrorKind.Conflict, result.Error?.Kind);
        Assert.Contains("directory", result.Error?.AgentMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetFactorsAsync_Caller_FactorsRemoved()
    {
        var caller = emulator.NewCaller();

        var result = await Directory.ResetFactorsAsync(caller.Id);

        Assert.True(result.IsSuccess);
        Assert.Equal(1, caller.FactorsReset);
        Assert.Empty(caller.Factors);
        Assert.Empty((await Directory.ListFactorsAsync(caller.Id)).Value);
    }

    [Fact]
    public async Task IssueTemporaryAccessAsync_Caller_CodeIssued()
    {
        var caller = emulator.NewCaller();
        var before = DateTimeOffset.UtcNow;

        var result = await Directory.IssueTemporaryAccessAsync(caller.Id, TimeSpan.FromMinutes(90), usableOnce: true);

        Assert.False(string.IsNullOrEmpty(result.Value.Value));
        Assert.True(result.Value.UsableOnce);
        Assert.InRange(result.Value.ExpiresAt, before.AddMinutes(89), before.AddMinutes(92));
        Assert.Equal(1, caller.TemporaryAccessCodesIssued);
    }

    [Fact]
    public async Task IssueTemporaryAccessAsync_ConfiguredAuthenticatorId_SkipsTheListing()
    {
        var caller = emulator.NewCaller();
        var directory = emulator.DirectoryWith(new OktaConnectionSettings { TacAuthenticatorId = EmulatorState.TacAuthenticatorId });
        var before = emulator.State.Requests.Count;

        var result = await directory.IssueTemporaryAccessAsync(caller.Id, TimeSpan.FromMinutes(30), usableOnce: true);

        Assert.True(result.IsSuccess);
        var sent = Assert.Single(emulator.State.Requests.Skip(before));
        Assert.Equal($"/api/v1/users/{caller.Id}/authenticator-enrollments/tac", sent.PathAndQuery);
    }

    [Fact]
    public async Task IssueTemporaryAccessAsync_ClassicEngineOrg_SaysIdentityEngineIsNeeded()
    {
        var caller = emulator.NewCaller();
        emulator.State.ClassicEngine = true;
        try
        {
            var listed = await Directory.IssueTemporaryAccessAsync(caller.Id, TimeSpan.FromMinutes(30), usableOnce: true);
            var direct = await emulator.DirectoryWith(new OktaConnectionSettings { TacAuthenticatorId = EmulatorState.TacAuthenticatorId })
                .IssueTemporaryAccessAsync(caller.Id, TimeSpan.FromMinutes(30), usableOnce: true);

            foreach (var result in new[] { listed, direct })
            {
                Assert.Equal("tac_classic_engine", result.Error?.Code);
                Assert.Contains("Classic Engine", result.Error?.AgentMessage, StringComparison.Ordinal);
                Assert.DoesNotContain("no such user", result.Error?.AgentMessage, StringComparison.OrdinalIgnoreCase);
            }
        }
        finally
        {
            emulator.State.ClassicEngine = false;
        }
    }

    [Fact]
    public async Task IssueTemporaryAccessAsync_TacAuthenticatorInactive_SaysItIsNotEnabled_NothingIssued()
    {
        var caller = emulator.NewCaller();
        emulator.State.OktaTacActive = false;
        try
        {
            // Listed: the portal sees the INACTIVE status. Named in settings: Okta refuses the enrollment (400 E0000001).
            var listed = await Directory.IssueTemporaryAccessAsync(caller.Id, TimeSpan.FromMinutes(30), usableOnce: true);
            var direct = await emulator.DirectoryWith(new OktaConnectionSettings { TacAuthenticatorId = EmulatorState.TacAuthenticatorId })
                .IssueTemporaryAccessAsync(caller.Id, TimeSpan.FromMinutes(30), usableOnce: true);

            foreach (var result in new[] { listed, direct })
            {
                Assert.Equal("tac_not_enabled", result.Error?.Code);
                Assert.Contains("activate the Temporary Access Code authenticator", result.Error?.AgentMessage, StringComparison.Ordinal);
            }

            Assert.Contains("Idp:Okta:TacAuthenticatorId", direct.Error?.AgentMessage, StringComparison.Ordinal);
            Assert.Equal(0, caller.TemporaryAccessCodesIssued);
        }
        finally
        {
            emulator.State.OktaTacActive = true;
        }
    }

    [Fact]
    public async Task AnyCall_WrongToken_Unauthorized()
    {
        var result = await emulator.DirectoryWithToken("not-the-token").FindCallerAsync(Alice);

        Assert.Equal(IdpErrorKind.Unauthorized, result.Error?.Kind);
        Assert.Equal("E0000011", result.Error?.Code);
    }

    [Fact]
    public async Task GetCallerAsync_TokenPerConnection_EachDirectoryUsesItsOwn()
    {
        var count = emulator.State.Requests.Count;
        var bad = await emulator.DirectoryWithToken(EmulatorFixture.Token + "x").GetCallerAsync(emulator.IdOf(Alice));
        var good = await Directory.GetCallerAsync(emulator.IdOf(Alice));

        Assert.Equal(IdpErrorKind.Unauthorized, bad.Error?.Kind);
        Assert.True(good.IsSuccess);
        Assert.Equal(count + 2, emulator.State.Requests.Count);
    }

    [Fact]
    public async Task Outage_Read_UnavailableNothingChanged()
    {
        emulator.State.SetOutage(true);
        try
        {
            var result = await Directory.GetCallerAsync(emulator.IdOf(Alice));

            Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
            Assert.Equal("Okta did not answer; nothing was changed", result.Error?.AgentMessage);
        }
        finally
        {
            emulator.State.SetOutage(false);
        }
    }

    [Fact]
    public async Task Outage_Write_UnavailableOutcomeUnknownAndSentOnce()
    {
        var caller = emulator.NewCaller();
        emulator.State.SetOutage(true);
        try
        {
            var result = await Directory.ResetFactorsAsync(caller.Id);

            Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
            Assert.Equal("Okta did not answer; the outcome is unknown, check the account before retrying", result.Error?.AgentMessage);
            Assert.Single(emulator.State.Requests, r => r.PathAndQuery == $"/api/v1/users/{caller.Id}/lifecycle/reset_factors");
        }
        finally
        {
            emulator.State.SetOutage(false);
        }
    }

    [Fact]
    public async Task FailNext_ServerErrorOnWrite_NotRetried()
    {
        var caller = emulator.NewCaller();
        emulator.State.FailNext(503, $"/users/{caller.Id}/lifecycle/reset_password");

        var result = await Directory.ResetPasswordAsync(caller.Id, PasswordResetKind.SendEmail);

        Assert.Equal(IdpErrorKind.Unavailable, result.Error?.Kind);
        Assert.Equal(0, caller.PasswordResets);
        Assert.Single(emulator.State.Requests, r => r.PathAndQuery.StartsWith($"/api/v1/users/{caller.Id}/lifecycle/reset_password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailNext_ServerErrorOnRead_RetriedAndSucceeds()
    {
        var caller = emulator.NewCaller();
        emulator.State.FailNext(503, $"/users/{caller.Id}/factors");

        var result = await Directory.ListFactorsAsync(caller.Id);

        Assert.True(result.IsSuccess);
        Assert.Equal(2, emulator.State.Requests.Count(r => r.PathAndQuery == $"/api/v1/users/{caller.Id}/factors"));
    }

    [Fact]
    public async Task FailNext_Forbidden_AccessDenied()
    {
        var caller = emulator.NewCaller();
        emulator.State.FailNext(403, $"/users/{caller.Id}/lifecycle/expire_password_with_temp_password");

        var result = await Directory.ResetPasswordAsync(caller.Id, PasswordResetKind.TemporaryPassword);

        Assert.Equal(IdpErrorKind.AccessDenied, result.Error?.Kind);
        Assert.Equal("E0000006", result.Error?.Code);
        Assert.Equal(0, caller.TemporaryPasswordsIssued);
    }

    [Fact]
    public async Task FailNext_RateLimitedWrite_RateLimitedAndSentOnce()
    {
        var caller = emulator.NewCaller("LOCKED_OUT");
        emulator.State.FailNext(429, $"/users/{caller.Id}/lifecycle/unlock");

        var result = await Directory.UnlockAsync(caller.Id);

        Assert.Equal(IdpErrorKind.RateLimited, result.Error?.Kind);
        Assert.Equal("E0000047", result.Error?.Code);
        Assert.True(result.Error?.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.Equal("LOCKED_OUT", caller.Status);
        Assert.Single(emulator.State.Requests, r => r.PathAndQuery == $"/api/v1/users/{caller.Id}/lifecycle/unlock");
    }

    private async Task<PushChallenge> StartAlicePush()
    {
        var result = await Directory.StartPushAsync(emulator.IdOf(Alice), emulator.FactorOf(Alice, "push"), Context);
        Assert.True(result.IsSuccess, result.Error?.Code);
        Assert.InRange(result.Value.CorrectAnswer, 1, 99);
        return result.Value;
    }

    [Fact]
    public async Task ListAdminRoles_DirectAndThroughAGroup_BothListed_NoneForAPlainUser()
    {
        var direct = emulator.NewCaller();
        var throughGroup = emulator.NewCaller();
        var plain = emulator.NewCaller();
        emulator.State.AssignRole(direct.Login, "USER_ADMIN");
        emulator.State.AssignGroupRole("Role Holders " + throughGroup.Id, "HELP_DESK_ADMIN");
        emulator.State.AddToGroup(throughGroup.Login, "Role Holders " + throughGroup.Id);

        var directRoles = await emulator.Directory.ListAdminRolesAsync(direct.Id);
        var groupRoles = await emulator.Directory.ListAdminRolesAsync(throughGroup.Id);
        var plainRoles = await emulator.Directory.ListAdminRolesAsync(plain.Id);

        Assert.Equal(["USER_ADMIN"], directRoles.Value);
        Assert.Equal(["HELP_DESK_ADMIN"], groupRoles.Value);
        Assert.Empty(plainRoles.Value);
    }
}
