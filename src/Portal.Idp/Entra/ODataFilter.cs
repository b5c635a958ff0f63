namespace Portal.Idp.Entra;

/// <summary>Builds the Graph <c>$filter</c> expressions the adapter sends, with every user-supplied value quoted.</summary>
internal static class ODataFilter
{
    /// <summary>
    /// An OData string literal: single quotes around the value, each quote inside doubled. Without it, a caller's
    /// "login" such as <c>x' or 1 eq 1</c> would change the expression and match other users.
    /// </summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>Users whose UPN or primary mail address is exactly <paramref name="value"/>.</summary>
    public static string UpnOrMail(string value)
    {
        var literal = Quote(value);
        return $"userPrincipalName eq {literal} or mail eq {literal}";
    }
}
