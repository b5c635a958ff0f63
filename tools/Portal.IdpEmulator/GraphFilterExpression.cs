using System.Text;

namespace Portal.IdpEmulator;

/// <summary>
/// The <c>$filter</c> subset the emulator understands: <c>userPrincipalName eq '…'</c> and <c>mail eq '…'</c>
/// terms joined by <c>or</c>, with OData's <c>''</c> escape inside literals. Anything else is refused, so that a
/// portal that forgot to escape input is caught rather than answered.
/// </summary>
internal static class GraphFilterExpression
{
    /// <summary>The (attribute, value) terms, or null when the expression is outside the subset.</summary>
    public static IReadOnlyList<(string Attribute, string Value)>? Parse(string filter)
    {
        var terms = new List<(string, string)>();
        var i = 0;
        while (true)
        {
            SkipSpaces(filter, ref i);
            var attribute = ReadWord(filter, ref i);
            if (attribute is not ("userPrincipalName" or "mail"))
            {
                return null;
            }

            if (!RequireSpace(filter, ref i) || ReadWord(filter, ref i) != "eq" || !RequireSpace(filter, ref i))
            {
                return null;
            }

            var value = ReadLiteral(filter, ref i);
            if (value is null)
            {
                return null;
            }

            terms.Add((attribute, value));
            SkipSpaces(filter, ref i);
            if (i == filter.Length)
            {
                return terms;
            }

            if (ReadWord(filter, ref i) != "or" || !RequireSpace(filter, ref i))
            {
                return null;
            }
        }
    }

    internal static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && s[i] == ' ')
        {
            i++;
        }
    }

    internal static bool RequireSpace(string s, ref int i)
    {
        if (i >= s.Length || s[i] != ' ')
        {
            return false;
        }

        SkipSpaces(s, ref i);
        return true;
    }

    private static string ReadWord(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && char.IsAsciiLetter(s[i]))
        {
            i++;
        }

        return s[start..i];
    }

    /// <summary>An OData string literal at <paramref name="i"/> (<c>'…'</c>, <c>''</c> for a quote); null when there is none.</summary>
    internal static string? ReadLiteral(string s, ref int i)
    {
        if (i >= s.Length || s[i] != '\'')
        {
            return null;
        }

        i++;
        var value = new StringBuilder();
        while (i < s.Length)
        {
            if (s[i] != '\'')
            {
                value.Append(s[i++]);
                continue;
            }

            if (i + 1 < s.Length && s[i + 1] == '\'')
            {
                value.Append('\'');
                i += 2;
                continue;
            }

            i++;
            return value.ToString();
        }

        return null;
    }
}
