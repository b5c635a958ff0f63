using Portal.Web.Verification.Actions;
namespace Portal.Web.Features.Audit;

/// <summary>
/// An audit record's reason code in words, for the auditor's pages. The record keeps the code (the export, the API and
/// the filters use it, and a SIEM joins on it); the page shows the words, with the code beside them. A code not listed
/// here is shown as it is.
/// </summary>
public static class ReasonLabels
{
    private static readonly Dictionary<string, string> Words = new(StringComparer.Ordinal)
    {
        // Actions outside the portal (reconciliation)
        ["no_portal_verification"] = "Done outside the portal, with no verification of this user by this person in the portal",
        ["portal_verification_found"] = "Done outside the portal, after this person verified the user in the portal",

        // Verifications
        ["push_rejected"] = "The caller rejected the push",
        ["push_timed_out"] = "The push was not answered in time",
        ["wrong_code"] = "Wrong code",
        ["code_replayed"] = "A code already used was given again",
        ["malformed_code"] = "The code was not a code",
        ["push_limit"] = "Too many pushes sent to this caller recently",
        ["caller_alarm"] = "The caller is under alarm",
        ["cooling_down"] = "The caller is cooling down after failed attempts",
        ["failure_limit"] = "Too many failed verifications of this caller",
        ["factor_not_challengeable"] = "That factor cannot be challenged",
        ["stale_form"] = "The page had expired",
        ["stepup_timed_out"] = "The step-up sign-in was not finished in time",
        ["stepup_not_configured"] = "Step-up sign-in is not configured",
        ["link_expired"] = "The step-up link had expired",
        ["link_reused"] = "The step-up link was used again",
        ["code_attempts"] = "Too many wrong step-up codes",
        ["browser_mismatch"] = "The step-up finished in another browser",
        ["subject_mismatch"] = "Someone else signed in at the step-up",
        ["subject_missing"] = "The step-up sign-in named nobody",
        ["mfa_missing"] = "The step-up sign-in did not use MFA",
        ["auth_time_stale"] = "The step-up sign-in was not fresh",
        ["auth_time_missing"] = "The step-up sign-in did not say when it happened",
        ["nonce_mismatch"] = "The step-up answer did not match its request",
        ["entra_push_disabled"] = "Microsoft Authenticator push is not turned on for this tenant",
        ["entra_push_failed"] = "The Microsoft Authenticator push failed",
        ["heightened_mode"] = "Refused: heightened-threat mode is on and does not accept this method",
        ["recovery_not_enabled"] = "This recovery method is not turned on for this tenant",
        ["caller_inactive"] = "The caller's account is closed or suspended: no recovery",
        ["manager_absent"] = "The identity provider names no manager for the caller",
        ["manager_is_caller"] = "The identity provider names the caller as their own manager",
        ["manager_inactive"] = "The caller's manager's account is not active",
        ["manager_under_alarm"] = "The caller's manager is under alarm or locked out of verification",
        ["manager_push_limit"] = "Too many pushes sent to the caller's manager recently",
        ["manager_no_factor"] = "The caller's manager has no push with number matching",
        ["manager_rejected"] = "The caller's manager rejected the approval",
        ["manager_timed_out"] = "The caller's manager did not answer in time",
        ["manager_no_address"] = "The identity provider has no e-mail address for the caller's manager",
        ["manager_signin_by_caller"] = "The caller signed in with their manager's approval link",
        ["manager_signin_mismatch"] = "Someone other than the caller's manager signed in with the approval link",
        ["notice_failed"] = "The recovery notice failed unexpectedly (see the portal's log)",
        ["approver"] = "Asked to approve a report's recovery as their manager",
        ["approved"] = "Approved: the caller is verified",
        ["no_work_phone"] = "The identity provider has no work phone for the caller: no call-back",
        ["callback_not_me"] = "Who answered the number on file said they never called the help desk",
        ["callback_timed_out"] = "The call-back's code was not confirmed in time",
        ["callback_phone_changed"] = "The work phone on file changed during the call-back",
        ["prior_verification_invalid"] = "Second method refused: the first verification named is not this agent session's, or is of another caller",
        ["prior_verification_expired"] = "Second method refused: the first verification had ended",
        ["second_method_same"] = "Second method refused: the same method as the first verification",
        ["idv_not_verified"] = "Okta recorded that the caller's ID verification did not pass",
        ["idv_no_decision"] = "Okta recorded an ID verification that ended without a decision (a vendor error, another outcome): not counted against the caller",
        ["idv_timed_out"] = "The caller did not finish the ID verification in time",
        ["idv_already_waiting"] = "Refused: another ID verification of the caller was still waiting",
        ["idv_result_used"] = "The ID verification Okta recorded had already verified another call in the caller's name",

        // Recovery notices (docs/recovery.md)
        ["no_relay"] = "No mail relay is configured for recovery notices",
        ["no_address"] = "The identity provider has no e-mail address for the caller",
        ["idp_unreachable"] = "The caller's address could not be read: the identity provider did not answer",
        ["relay_unreachable"] = "The mail relay could not be reached",
        ["relay_refused"] = "The mail relay refused the notice",
        ["relay_recipient_refused"] = "The mail relay refused the caller's address",
        ["relay_auth_refused"] = "The mail relay refused the portal's sign-in",
        ["relay_tls_failed"] = "The mail relay's TLS could not be established",

        // Actions
        ["no_verification"] = "No verification of this caller by this agent",
        ["verification_used"] = "Already done in this verification",
        ["verification_expired"] = "The verification had expired",
        ["unreadable_verification"] = "The verification could not be read",
        ["method_insufficient"] = "The verification method is not accepted for this action",
        ["approval_required"] = "Privileged account: waiting for a second agent's approval",
        ["second_method_required"] = "Executive target: two live verifications by different methods are needed",
        ["approval_rejected"] = "A second agent rejected the request",
        ["self_approval"] = "An agent tried to approve their own request",
        ["not_pending"] = "The request was already decided or had expired",
        ["synced_user"] = "Synced from on-premises: the password is reset there",
        ["not_revoked"] = "The identity provider did not end the sessions",
        ["unsupported_reset"] = "That kind of reset is not supported here",
        ["unsupported_unlock"] = "Unlock is not supported here",
        ["tac_not_enabled"] = "Temporary access codes are not enabled in the org",
        ["tac_classic_engine"] = "Temporary access codes need Okta Identity Engine",
        ["tap_policy"] = "The Temporary Access Pass policy does not allow it",

        // Agents and administration
        ["agent_mfa_missing"] = "The agent signed in without MFA",
        ["no_tier"] = "The agent is in no helpdesk tier",
        ["session_cap"] = "Signed out: too many sessions of this agent",
        ["ip_lockout"] = "Refused: address not on the IP allow-list",
        ["admin_lockout"] = "Refused: the change would lock the admins out",
        ["last_admin_tier"] = "Refused: the last tier that can administer",
        ["separation_of_duties"] = "Refused: separation of duties",
        ["webhook_destination"] = "Refused: the webhook destination is not allowed",
        ["heightened_mode_on"] = "Refused: heightened-threat mode is on, and the change would loosen what it enforces",
        ["no_change"] = "Nothing changed",

        // The identity provider's answers
        ["not_found"] = "No such user at the identity provider",
        ["ambiguous"] = "More than one user matched",
        ["invalid_search"] = "Not a login or e-mail address",
        ["invalid_id"] = "Not a valid user id",
        ["unreachable"] = "The identity provider did not answer",
        ["unreadable_response"] = "The identity provider's answer could not be read",
        ["missing_scope"] = "The portal's credential lacks a scope",
        ["invalid_client"] = "The identity provider refused the portal's credential",
        ["token_unavailable"] = "No token from the identity provider",
        ["E0000001"] = "Okta refused the request as invalid",
        ["E0000006"] = "Okta: the portal's credential may not do this",
        ["E0000007"] = "Okta: no such user or factor",
        ["E0000011"] = "Okta refused the portal's API token",
        ["E0000032"] = "Okta: the account is unlocked in its own directory",
        ["E0000038"] = "Okta: the account's status does not allow this",
        ["E0000047"] = "Okta: rate limit reached",
        ["E0000068"] = "Okta: wrong passcode",
    };

    /// <summary>
    /// The words of each part of a reason made of several codes (an approval's "password_reset before_verification
    /// roles_unknown": the action, then what is known of it).
    /// </summary>
    private static readonly Dictionary<string, string> Parts = new(StringComparer.Ordinal)
    {
        ["before_verification"] = "asked for at look-up, before verifying",
        ["roles_unknown"] = "the caller's admin roles could not be read",
        ["groups_unknown"] = "the caller's groups could not be read",
        ["heightened_mode"] = "heightened-threat mode is on",
        ["recovery"] = "the caller was verified through a recovery method",
    };

    /// <summary>The reason in words; the code itself when it has none; empty for no reason.</summary>
    public static string Describe(string? code)
    {
        if (string.IsNullOrEmpty(code))
        {
            return "";
        }

        // A second method's verification names the one it follows (docs/tenancy.md, "Executive targets").
        var (own, prior) = SplitPrior(code);
        if (prior is not null)
        {
            var following = $"second method, following verification {prior}";
            return own.Length == 0 ? char.ToUpperInvariant(following[0]) + following[1..] : Describe(own) + "; " + following;
        }

        if (Words.TryGetValue(code, out var words))
        {
            return words;
        }

        return Compound(code) is { } parts ? string.Join("; ", parts) : code;
    }

    /// <summary>Whether <see cref="Describe"/> has words for <paramref name="code"/> (the page then shows the code beside them).</summary>
    public static bool Known(string? code)
    {
        if (code is null)
        {
            return false;
        }

        var (own, prior) = SplitPrior(code);
        return prior is not null ? own.Length == 0 || Known(own) : Words.ContainsKey(code) || Compound(code) is not null;
    }

    /// <summary>The reason without its trailing <c>prior:{id}</c>, and that id (null when there is none).</summary>
    private static (string Own, string? Prior) SplitPrior(string code)
    {
        var at = code.LastIndexOf(Portal.Web.Verification.Methods.PriorVerification.ReasonToken, StringComparison.Ordinal);
        if (at < 0 || (at > 0 && code[at - 1] != ' '))
        {
            return (code, null);
        }

        var id = code[(at + Portal.Web.Verification.Methods.PriorVerification.ReasonToken.Length)..];
        return id.Length > 0 && !id.Contains(' ', StringComparison.Ordinal) ? (code[..at].TrimEnd(), id) : (code, null);
    }

    /// <summary>The words of each part of an action name followed by known parts; null when any part has none.</summary>
    private static List<string>? Compound(string code)
    {
        var tokens = code.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0 || CallerAction.All.FirstOrDefault(a => a.Name == tokens[0]) is not { } action)
        {
            return null;
        }

        var parts = new List<string> { action.Title };
        foreach (var token in tokens.Skip(1))
        {
            if (!Parts.TryGetValue(token, out var part))
            {
                return null;
            }

            parts.Add(part);
        }

        return parts;
    }
}
