using Portal.Idp;
using Portal.Web.Tenancy;

namespace Portal.Web.Tests.Core;

/// <summary>The rules every tenant's settings obey, at start-up and on every admin edit: each bound and each message.</summary>
public sealed class TenantPolicyRulesTests
{
    private const string At = "Portal:Tenants:0";

    private static TenantSettings Valid() => new()
    {
        Id = "acme",
        GroupTiers = new() { ["Helpdesk"] = DefaultTiers.Tier1, ["Admins"] = DefaultTiers.TenantAdmin },
    };

    private static List<string> Check(TenantSettings tenant, bool development = false)
    {
        var failures = new List<string>();
        TenantPolicyRules.Check(tenant, At, failures, development);
        return failures;
    }

    private static void AssertOnly(string expected, TenantSettings tenant, bool development = false) =>
        Assert.Equal([expected], Check(tenant, development));

    [Fact]
    public void Defaults_AreValid()
    {
        Assert.Empty(Check(Valid()));
        Assert.Empty(Check(Valid(), development: true));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(30, true)]
    [InlineData(31, false)]
    public void SessionMinutes_2To30(int minutes, bool valid)
    {
        var t = Valid();
        t.Verification.SessionMinutes = minutes;
        Assert.Equal(valid ? [] : [$"{At}:Verification:SessionMinutes must be between 2 and 30."], Check(t));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(10, true)]
    [InlineData(11, false)]
    public void MaxFailuresBeforeCooldown_1To10(int count, bool valid)
    {
        var t = Valid();
        t.Verification.MaxFailuresBeforeCooldown = count;
        Assert.Equal(valid ? [] : [$"{At}:Verification:MaxFailuresBeforeCooldown must be between 1 and 10."], Check(t));
    }

    [Theory]
    [InlineData(0, 60, false)]
    [InlineData(1, 60, true)]
    [InlineData(1440, 60, true)]
    [InlineData(1441, 60, false)]
    [InlineData(15, 0, false)]
    [InlineData(15, 1, true)]
    [InlineData(15, 10080, true)]
    [InlineData(15, 10081, false)]
    public void Cooldowns_1To1440_AndAlarm1To10080(int cooldown, int alarm, bool valid)
    {
        var t = Valid();
        t.Verification.CooldownMinutes = cooldown;
        t.Verification.AlarmCooldownMinutes = alarm;
        Assert.Equal(valid ? [] : [$"{At}:Verification:CooldownMinutes must be 1-1440 and AlarmCooldownMinutes 1-10080."], Check(t));
    }

    [Theory]
    [InlineData(0, 10, false)]
    [InlineData(1, 10, true)]
    [InlineData(10, 10, true)]
    [InlineData(11, 10, false)]
    [InlineData(3, 0, false)]
    [InlineData(3, 1, true)]
    [InlineData(3, 60, true)]
    [InlineData(3, 61, false)]
    public void PushLimit_1To10PerWindowOf1To60Minutes(int pushes, int window, bool valid)
    {
        var t = Valid();
        t.Verification.MaxPushesPerWindow = pushes;
        t.Verification.PushWindowMinutes = window;
        Assert.Equal(valid ? [] : [$"{At}:Verification:MaxPushesPerWindow must be 1-10 and PushWindowMinutes 1-60."], Check(t));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(400, true)]
    [InlineData(401, false)]
    public void AuditRetention_1To400Days(int days, bool valid)
    {
        var t = Valid();
        t.AuditRetentionDays = days;
        Assert.Equal(valid ? [] : [$"{At}:AuditRetentionDays must be between 1 and 400."], Check(t));
    }

    [Fact]
    public void Tiers_NamesValidAndUnique_PermissionsKnown_AdminKeptApartFromCallers()
    {
        var t = Valid();
        t.Tiers =
        [
            new() { Name = DefaultTiers.Tier1, Permissions = [Permissions.CallerLookup] },
            new() { Name = DefaultTiers.TenantAdmin, Permissions = [Permissions.AdminTiers] },
            new() { Name = DefaultTiers.Tier1, Permissions = [] },
            new() { Name = " padded", Permissions = [] },
            new() { Name = "Odd", Permissions = ["caller.everything"] },
            new() { Name = "Mixed", Permissions = [Permissions.AdminSettings, Permissions.MfaReset] },
            new() { Name = "Mixed2", Permissions = [Permissions.AdminIpAllowlist, Permissions.CallerVerify] },
            new() { Name = "Fine", Permissions = [Permissions.AuditRead, Permissions.AdminTiers] },
        ];
        Assert.Equal(
        [
            $"{At}:Tiers 'Tier 1' is defined twice.",
            $"{At}:Tiers: a tier name must be 1-64 printable characters.",
            $"{At}:Tiers 'Odd' names an unknown permission 'caller.everything'.",
            $"{At}:Tiers 'Mixed' combines admin permissions with caller or action permissions; separation of duties keeps them in different tiers.",
            $"{At}:Tiers 'Mixed2' combines admin permissions with caller or action permissions; separation of duties keeps them in different tiers.",
        ], Check(t));
    }

    [Fact]
    public void GroupTiers_GroupNamesValid_TiersKnown()
    {
        var t = Valid();
        t.GroupTiers["Nobody"] = "Tier 9";
        t.GroupTiers[new string('g', 257)] = DefaultTiers.Tier1;
        t.GroupTiers[new string('h', 256)] = DefaultTiers.Tier1;
        Assert.Equal(
        [
            $"{At}:GroupTiers maps 'Nobody' to an unknown tier 'Tier 9'.",
            $"{At}:GroupTiers: a group name must be 1-256 printable characters.",
        ], Check(t));
    }

    [Fact]
    public void ActionMethods_KnownActions_AcceptedMethodsOnly_NumberMatchingForTheStrongActions()
    {
        var t = Valid();
        t.ActionMethods["password_reset"] = [VerificationMethods.OktaTotp, VerificationMethods.EntraPush, VerificationMethods.OidcStepUp, VerificationMethods.OktaPush];
        t.ActionMethods["sessions_revoke"] = [];
        t.ActionMethods["account_unlock"] = [VerificationMethods.OktaPush, "sms"];
        t.ActionMethods["teleport"] = [VerificationMethods.OktaPush];
        t.ActionMethods["tap_issue"] = [VerificationMethods.OktaPush, VerificationMethods.OktaTotp];
        t.ActionMethods["mfa_reset"] = [VerificationMethods.EntraPush];
        var methods = "okta.push, oidc.stepup, okta.totp, entra.push, recovery.manager, recovery.callback, recovery.idv";
        Assert.Equal(
        [
            $"{At}:ActionMethods:sessions_revoke must list one or more of {methods}.",
            $"{At}:ActionMethods:account_unlock must list one or more of {methods}.",
            $"{At}:ActionMethods names an unknown action 'teleport'.",
            $"{At}:ActionMethods:tap_issue may list only okta.push, oidc.stepup, recovery.manager and recovery.idv (number matching, a fresh sign-in, or a recovery that proves as much).",
            $"{At}:ActionMethods:mfa_reset may list only okta.push, oidc.stepup, recovery.manager and recovery.idv (number matching, a fresh sign-in, or a recovery that proves as much).",
        ], Check(t));

        var strong = Valid();
        strong.ActionMethods["tap_issue"] = [VerificationMethods.OktaPush, VerificationMethods.OidcStepUp];
        strong.ActionMethods["mfa_reset"] = [VerificationMethods.OidcStepUp];
        Assert.Empty(Check(strong));
    }

    [Fact]
    public void RecoveryFloor_NoRecoveryMethodEverOpensAPasswordReset_MayOpenTheActionsThatLetTheCallerEnrolAgain()
    {
        var t = Valid();
        t.ActionMethods["password_reset"] = [VerificationMethods.OktaPush, VerificationMethods.RecoveryManager];
        AssertOnly($"{At}:ActionMethods:password_reset may not list a recovery method (recovery.manager, recovery.callback, recovery.idv): issue a temporary access code after a recovery instead.", t);

        var enrolAgain = Valid();
        enrolAgain.ActionMethods["tap_issue"] = [VerificationMethods.RecoveryManager];
        enrolAgain.ActionMethods["mfa_reset"] = [VerificationMethods.OktaPush, VerificationMethods.RecoveryManager];
        enrolAgain.ActionMethods["sessions_revoke"] = [VerificationMethods.RecoveryManager];
        Assert.Empty(Check(enrolAgain));
    }

    [Fact]
    public void CallBack_OpensOnlyTheActionsThatHandNothingOver()
    {
        var harmless = Valid();
        harmless.ActionMethods["sessions_revoke"] = [VerificationMethods.OktaPush, VerificationMethods.RecoveryCallBack];
        harmless.ActionMethods["account_unlock"] = [VerificationMethods.RecoveryCallBack];
        Assert.Empty(Check(harmless));

        var t = Valid();
        t.ActionMethods["password_reset"] = [VerificationMethods.RecoveryCallBack];
        t.ActionMethods["tap_issue"] = [VerificationMethods.RecoveryCallBack];
        Assert.Equal(
        [
            $"{At}:ActionMethods:password_reset may not list recovery.callback: a call-back opens only sessions_revoke and account_unlock.",
            $"{At}:ActionMethods:password_reset may not list a recovery method (recovery.manager, recovery.callback, recovery.idv): issue a temporary access code after a recovery instead.",
            $"{At}:ActionMethods:tap_issue may list only okta.push, oidc.stepup, recovery.manager and recovery.idv (number matching, a fresh sign-in, or a recovery that proves as much).",
            $"{At}:ActionMethods:tap_issue may not list recovery.callback: a call-back opens only sessions_revoke and account_unlock.",
        ], Check(t));
    }

    [Fact]
    public void ManagerApproval_EntraWithoutStepUp_NamedWhy_WithStepUpAccepted()
    {
        var okta = Valid();
        okta.Recovery.ManagerApproval = true;
        okta.Recovery.Notices.Smtp.Host = "smtp.example.com";
        Assert.Empty(Check(okta));

        // An Entra manager approves by a step-up sign-in (docs/recovery.md): without step-up there is no way to ask them.
        var entra = Valid();
        entra.Idp.Kind = IdpKind.Entra;
        entra.Recovery.ManagerApproval = true;
        entra.Recovery.Notices.Smtp.Host = "smtp.example.com";
        AssertOnly($"{At}:Recovery:ManagerApproval in an Entra tenant needs {At}:StepUp:Authority (docs/recovery.md): the manager approves by a step-up sign-in, as Microsoft Graph cannot send a push with number matching.", entra);
        Assert.False(Portal.Web.Verification.Methods.ManagerApprovalMethod.IsOffered(entra));

        entra.StepUp.Authority = "https://login.example.com/tenant/v2.0";
        Assert.DoesNotContain(Check(entra), f => f.Contains("ManagerApproval", StringComparison.Ordinal));
        Assert.True(Portal.Web.Verification.Methods.ManagerApprovalMethod.IsOffered(entra));

        // No relay: neither the caller's notice nor the manager's link can be sent, so it is not offered.
        entra.Recovery.Notices.Smtp.Host = "";
        Assert.False(Portal.Web.Verification.Methods.ManagerApprovalMethod.IsOffered(entra));
    }

    [Fact]
    public void ManagerApproval_WithoutTheNoticesRelay_NamedWhy()
    {
        var t = Valid();
        t.Recovery.ManagerApproval = true;
        AssertOnly($"{At}:Recovery:ManagerApproval needs {At}:Recovery:Notices:Smtp:Host (docs/recovery.md): the caller must be told after every recovery.", t);
    }

    [Fact]
    public void CallBack_WithoutTheNoticesRelay_NamedWhy_OnEitherIdp()
    {
        foreach (var kind in new[] { IdpKind.Okta, IdpKind.Entra })
        {
            var t = Valid();
            t.Idp.Kind = kind;
            t.Recovery.CallBack = true;
            AssertOnly($"{At}:Recovery:CallBack needs {At}:Recovery:Notices:Smtp:Host (docs/recovery.md): the caller must be told after every recovery.", t);
            t.Recovery.Notices.Smtp.Host = "smtp.example.com";
            t.Recovery.Notices.Smtp.From = "notices@example.com";
            Assert.Empty(Check(t));
        }
    }

    [Fact]
    public void IdVerification_OktaOnly_NeedsTheNoticesRelay_OpensATemporaryAccessCodeButNeverAPassword()
    {
        var okta = Valid();
        okta.Recovery.IdVerification = true;
        AssertOnly($"{At}:Recovery:IdVerification needs {At}:Recovery:Notices:Smtp:Host (docs/recovery.md): the caller must be told after every recovery.", okta);
        okta.Recovery.Notices.Smtp.Host = "smtp.example.com";
        okta.Recovery.Notices.Smtp.From = "notices@example.com";
        okta.ActionMethods["tap_issue"] = ["okta.push", "recovery.idv"];
        okta.ActionMethods["mfa_reset"] = ["recovery.idv"];
        Assert.Empty(Check(okta));
        okta.ActionMethods["password_reset"] = ["okta.push", "recovery.idv"];
        AssertOnly($"{At}:ActionMethods:password_reset may not list a recovery method (recovery.manager, recovery.callback, recovery.idv): issue a temporary access code after a recovery instead.", okta);

        var entra = Valid();
        entra.Idp.Kind = IdpKind.Entra;
        entra.Recovery.IdVerification = true;
        entra.Recovery.Notices.Smtp.Host = "smtp.example.com";
        entra.Recovery.Notices.Smtp.From = "notices@example.com";
        AssertOnly($"{At}:Recovery:IdVerification is available for Okta organisations only (docs/recovery.md): Microsoft Entra ID reports no identity verification result to other apps.", entra);
    }

    [Fact]
    public void PrivilegedGroups_NamesValid()
    {
        var t = Valid();
        t.PrivilegedGroups = ["Admins", new string('p', 256)];
        Assert.Empty(Check(t));
        t.PrivilegedGroups.Add("bad\tname");
        AssertOnly($"{At}:PrivilegedGroups: a group name must be 1-256 printable characters.", t);
    }

    [Fact]
    public void ExecutiveTargetGroups_NamesValid_ForEntraAsGraphListsThem()
    {
        var t = Valid();
        t.Idp.Kind = IdpKind.Okta;
        t.ExecutiveTargets.Groups = ["Executives", new string('e', 256)];
        Assert.Empty(Check(t));
        t.ExecutiveTargets.Groups.Add(new string('e', 257));
        AssertOnly($"{At}:ExecutiveTargets:Groups: a group name must be 1-256 printable characters.", t);
        t.ExecutiveTargets.Groups = [" Executives"];
        AssertOnly($"{At}:ExecutiveTargets:Groups: a group name must be 1-256 printable characters.", t);

        // Entra: Graph lists only directory roles and role-assignable groups, so a plain group name would never match.
        t.Idp.Kind = IdpKind.Entra;
        t.ExecutiveTargets.Groups = ["role-assignable group: Executives", "role: Global Administrator", "eligible role: Billing Administrator"];
        Assert.Empty(Check(t));
        foreach (var never in new[] { "Executives", "role:Global Administrator" })
        {
            t.ExecutiveTargets.Groups = ["role: Global Administrator", never];
            AssertOnly($"{At}:ExecutiveTargets:Groups: for Microsoft Entra an entry must start with 'role: ', 'eligible role: ', 'role-assignable group: ' (Graph lists only directory roles and role-assignable groups, docs/tenancy.md).", t);
        }
    }

    [Fact]
    public void ExecutiveTargetGroups_EachOnceWithoutRegardToCase_AtMostFifty()
    {
        var t = Valid();
        t.ExecutiveTargets.Groups = [.. Enumerable.Range(0, TenantPolicyRules.MaxExecutiveGroups).Select(i => $"Group {i}")];
        Assert.Empty(Check(t));
        t.ExecutiveTargets.Groups.Add("Group 50");
        AssertOnly($"{At}:ExecutiveTargets:Groups may hold at most 50 groups.", t);
        t.ExecutiveTargets.Groups = ["Executives", "Board", "EXECUTIVES"];
        AssertOnly($"{At}:ExecutiveTargets:Groups names 'Executives' more than once (names are compared without regard to case).", t);
    }

    /// <summary>The console shows a rule's failure in words (the same rule, checked with an empty setting path), naming the relay as configuration's.</summary>
    [Fact]
    public void RecoveryRules_InTheConsolesWords()
    {
        var t = Valid();
        t.Idp.Kind = IdpKind.Entra;
        t.Recovery.IdVerification = true;
        t.Recovery.ManagerApproval = true;
        var failures = new List<string>();
        TenantPolicyRules.Check(t, "", failures, development: false);

        var words = failures.Select(f => TenantAdministration.InWords(f.TrimStart(':'))).ToList();

        Assert.Equal(
            [
                "Manager approval in a Microsoft Entra organisation needs step-up sign-in, which your operator sets in configuration (StepUp:Authority): the manager approves by a step-up sign-in, as Microsoft Graph cannot send a push with number matching.",
                "Manager approval needs the SMTP relay of the recovery notices, which your operator sets in configuration (Recovery:Notices:Smtp), not in the console: the caller must be told after every recovery.",
                "ID verification is available for Okta organisations only: Microsoft Entra ID reports no identity verification result to other apps.",
                "ID verification needs the SMTP relay of the recovery notices, which your operator sets in configuration (Recovery:Notices:Smtp), not in the console: the caller must be told after every recovery.",
            ],
            words);
    }

    [Fact]
    public void IpAllowList_AtMost200StrictNetworks_TheRefusedEntryShownPrintable()
    {
        var t = Valid();
        t.IpAllowList = [.. Enumerable.Range(0, 200).Select(i => $"10.{i}.0.0/16")];
        Assert.Empty(Check(t));
        t.IpAllowList.Add("10.250.0.0/16");
        AssertOnly($"{At}:IpAllowList may hold at most 200 networks.", t);

        var bad = Valid();
        bad.IpAllowList = ["203.0.113.5/24", "evil\nline" + new string('x', 70)];
        Assert.Equal(
        [
            $"{At}:IpAllowList: '203.0.113.5/24' is not a network in CIDR notation (e.g. 203.0.113.0/24 or 2001:db8::/48).",
            $"{At}:IpAllowList: 'evil?line{new string('x', 51)}' is not a network in CIDR notation (e.g. 203.0.113.0/24 or 2001:db8::/48).",
        ], Check(bad));
    }

    [Theory]
    [InlineData("https://hooks.example.com/portal", false, null)]
    [InlineData("http://hooks.example.com/portal", false, "must be an absolute https URL without credentials.")]
    [InlineData("http://hooks.example.com/portal", true, "must be an absolute https URL without credentials.")]
    [InlineData("http://127.0.0.1:9000/hook", true, null)]
    [InlineData("http://127.0.0.1:9000/hook", false, "must be an absolute https URL without credentials.")]
    [InlineData("https://user:pw@hooks.example.com/", false, "must be an absolute https URL without credentials.")]
    [InlineData("/relative", false, "must be an absolute https URL without credentials.")]
    [InlineData("https://localhost/hook", false, "must point at a public internet address, not at the local host, a private network or a metadata address.")]
    [InlineData("https://localhost/hook", true, null)]
    [InlineData("https://10.1.2.3/hook", false, "must point at a public internet address, not at the local host, a private network or a metadata address.")]
    [InlineData("https://[fd00::1]/hook", false, "must point at a public internet address, not at the local host, a private network or a metadata address.")]
    [InlineData("https://169.254.169.254/hook", false, "must point at a public internet address, not at the local host, a private network or a metadata address.")]
    [InlineData("https://203.0.113.10/hook", false, null)]
    public void AlertWebhook_HttpsToAPublicAddress(string url, bool development, string? failure)
    {
        var t = Valid();
        t.AlertWebhook = new AlertWebhookSettings { Url = url, SigningSecretSecret = "env:HOOK_KEY" };
        Assert.Equal(failure is null ? [] : [$"{At}:AlertWebhook:Url {failure}"], Check(t, development));
    }

    [Fact]
    public void AlertWebhook_NeedsASigningKey_AReferenceNotAValue()
    {
        var t = Valid();
        t.AlertWebhook = new AlertWebhookSettings { Url = "https://hooks.example.com/portal" };
        AssertOnly($"{At}:AlertWebhook needs a signing key (SigningSecretSecret in configuration, or one generated in the admin console).", t);

        t.AlertWebhook.SigningSecretProtected = "protected-key";
        Assert.Empty(Check(t));

        var plain = Valid();
        plain.AlertWebhook = new AlertWebhookSettings { SigningSecretSecret = "the-key-itself" };
        AssertOnly($"{At}:AlertWebhook:SigningSecretSecret must be a secret reference 'env:NAME' or 'file:/path'.", plain);
    }

    [Fact]
    public void OneFailurePerSection_ReportedInTheOrderTheRulesRun()
    {
        // An admin edit is refused with the failures joined in one message (TenantAdministration): the order is what the admin reads.
        var t = Valid();
        t.Verification.SessionMinutes = 1;
        t.AuditRetentionDays = 0;
        t.CallScripts.Escalation = "";
        t.Tiers =
        [
            new() { Name = DefaultTiers.Tier1, Permissions = ["caller.everything"] },
            new() { Name = DefaultTiers.TenantAdmin, Permissions = [Permissions.AdminTiers] },
        ];
        t.GroupTiers["Nobody"] = "Tier 9";
        t.ActionMethods["teleport"] = [VerificationMethods.OktaPush];
        t.PrivilegedGroups = [""];
        t.IpAllowList = ["not a network"];
        t.AlertWebhook = new AlertWebhookSettings { Url = "http://hooks.example.com/", SigningSecretSecret = "plain" };
        Assert.Equal(
        [
            $"{At}:Verification:SessionMinutes must be between 2 and 30.",
            $"{At}:AuditRetentionDays must be between 1 and 400.",
            $"{At}:CallScripts:Escalation must be plain text of 1 to 1000 characters.",
            $"{At}:Tiers 'Tier 1' names an unknown permission 'caller.everything'.",
            $"{At}:GroupTiers maps 'Nobody' to an unknown tier 'Tier 9'.",
            $"{At}:ActionMethods names an unknown action 'teleport'.",
            $"{At}:PrivilegedGroups: a group name must be 1-256 printable characters.",
            $"{At}:IpAllowList: 'not a network' is not a network in CIDR notation (e.g. 203.0.113.0/24 or 2001:db8::/48).",
            $"{At}:AlertWebhook:Url must be an absolute https URL without credentials.",
            $"{At}:AlertWebhook:SigningSecretSecret must be a secret reference 'env:NAME' or 'file:/path'.",
        ], Check(t));
    }

    [Theory]
    [InlineData("Tier 1", 64, true)]
    [InlineData("", 64, false)]
    [InlineData("   ", 64, false)]
    [InlineData(" Tier", 64, false)]
    [InlineData("Tier ", 64, false)]
    [InlineData("Ti\u0000er", 64, false)]
    [InlineData("abcd", 4, true)]
    [InlineData("abcde", 4, false)]
    public void IsValidName_PrintableTrimmedBounded(string name, int max, bool valid) =>
        Assert.Equal(valid, TenantPolicyRules.IsValidName(name, max));

    [Fact]
    public void IsValidName_DefaultBoundIs64()
    {
        Assert.True(TenantPolicyRules.IsValidName(new string('n', 64)));
        Assert.False(TenantPolicyRules.IsValidName(new string('n', 65)));
        Assert.False(TenantPolicyRules.IsValidName(null));
    }

    [Fact]
    public void AdminAccess_KeptOnlyThroughAnAdminTierOfTheActingAdminThatAGroupMapsTo()
    {
        TierDefinition admin = new("Admin", [Permissions.AdminTiers]);
        TierDefinition settings = new("Settings", [Permissions.AdminSettings]);
        IReadOnlyList<TierDefinition> tiers = [admin, settings];
        var mapped = new Dictionary<string, string> { ["Admins"] = "Admin", ["Ops"] = "Settings" };

        Assert.True(TenantPolicyRules.IsAdminTier(admin));
        Assert.False(TenantPolicyRules.IsAdminTier(settings));

        Assert.True(TenantPolicyRules.KeepsAdminAccess(tiers, mapped, ["Admin"]));
        Assert.False(TenantPolicyRules.KeepsAdminAccess(tiers, mapped, ["Settings"]));
        Assert.False(TenantPolicyRules.KeepsAdminAccess(tiers, new Dictionary<string, string> { ["Ops"] = "Settings" }, ["Admin", "Settings"]));
        Assert.False(TenantPolicyRules.KeepsAdminAccess([settings], mapped, ["Admin"]));

        Assert.True(TenantPolicyRules.HasReachableAdminTier(tiers, mapped));
        Assert.False(TenantPolicyRules.HasReachableAdminTier(tiers, new Dictionary<string, string> { ["Ops"] = "Settings" }));
        Assert.False(TenantPolicyRules.HasReachableAdminTier([settings], mapped));
    }

    [Fact]
    public void Policy_FromSettings_AndAppliedBack_CarriesEverySection_WithoutChangingTheConfiguredTenant()
    {
        var configured = Valid();
        configured.Verification.SessionMinutes = 7;
        configured.ActionMethods["password_reset"] = [VerificationMethods.OktaPush];
        configured.PrivilegedGroups = ["Admins"];
        configured.IpAllowList = ["203.0.113.0/24"];
        configured.AlertWebhook = new AlertWebhookSettings { Url = "https://hooks.example.com/", SigningSecretSecret = "env:K" };
        configured.AuditRetentionDays = 90;

        var policy = TenantPolicy.From(configured);
        Assert.Equal(DefaultTiers.All.Select(t => t.Name), policy.Tiers.Select(t => t.Name));
        Assert.Equal(DefaultTiers.All.Select(t => t.Permissions), policy.Tiers.Select(t => (IReadOnlyList<string>)t.Permissions));
        Assert.Equal([("Helpdesk", DefaultTiers.Tier1), ("Admins", DefaultTiers.TenantAdmin)], policy.GroupTiers.Select(g => (g.Group, g.Tier)));
        Assert.Equal(7, policy.Verification.SessionMinutes);
        Assert.Equal([VerificationMethods.OktaPush], Assert.Single(policy.ActionMethods, a => a.Action == "password_reset").Methods);
        Assert.Equal(["Admins"], policy.PrivilegedGroups);
        Assert.Equal(["203.0.113.0/24"], policy.IpAllowList);
        Assert.Equal("https://hooks.example.com/", policy.AlertWebhook.Url);
        Assert.Equal(90, policy.AuditRetentionDays);

        policy.Tiers = [new TierSettings { Name = "Only", Permissions = [Permissions.CallerLookup] }];
        policy.GroupTiers = [new GroupTierMapping { Group = "G", Tier = "First" }, new GroupTierMapping { Group = "G", Tier = "Only" }];
        policy.Verification.SessionMinutes = 12;
        policy.ActionMethods = [new ActionMethodRule { Action = "mfa_reset", Methods = ["x"] }, new ActionMethodRule { Action = "mfa_reset", Methods = [VerificationMethods.OidcStepUp] }];
        policy.PrivilegedGroups = ["Root"];
        policy.IpAllowList = ["198.51.100.0/24"];
        policy.AlertWebhook.Url = "https://other.example.com/";
        policy.AuditRetentionDays = 5;

        var effective = policy.ApplyTo(configured);
        Assert.Equal(["Only"], effective.Tiers.Select(t => t.Name));
        Assert.Equal(new Dictionary<string, string> { ["G"] = "Only" }, effective.GroupTiers);
        Assert.Equal(12, effective.Verification.SessionMinutes);
        Assert.Equal([VerificationMethods.OidcStepUp], effective.ActionMethods["mfa_reset"]);
        Assert.Single(effective.ActionMethods);
        Assert.Equal(["Root"], effective.PrivilegedGroups);
        Assert.Equal(["198.51.100.0/24"], effective.IpAllowList);
        Assert.Equal("https://other.example.com/", effective.AlertWebhook.Url);
        Assert.Equal(5, effective.AuditRetentionDays);
        Assert.Equal("acme", effective.Id);

        // The configured tenant is never changed, and the effective one shares nothing with the policy.
        Assert.Equal(7, configured.Verification.SessionMinutes);
        Assert.Empty(configured.Tiers);
        Assert.Equal(90, configured.AuditRetentionDays);
        Assert.Equal(["Admins"], configured.PrivilegedGroups);
        policy.Verification.SessionMinutes = 20;
        policy.IpAllowList.Add("192.0.2.0/24");
        policy.PrivilegedGroups.Add("More");
        policy.AlertWebhook.Url = "https://third.example.com/";
        Assert.Equal(12, effective.Verification.SessionMinutes);
        Assert.Single(effective.IpAllowList);
        Assert.Single(effective.PrivilegedGroups);
        Assert.Equal("https://other.example.com/", effective.AlertWebhook.Url);

        var copy = policy.Copy();
        Assert.NotSame(policy, copy);
        Assert.Equal(policy.IpAllowList, copy.IpAllowList);
        copy.IpAllowList.Clear();
        Assert.Equal(2, policy.IpAllowList.Count);
    }
}
