using System.Text;
using Jint;
using Jint.Native;
using Jint.Native.Error;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// Replaces, on a fresh engine's realm, the built-ins whose one call builds a string the script sizes (a count, a
/// length, how often a shared string is repeated) with guards that ask the <see cref="AllocationBudget"/> first. Jint
/// checks its memory limit between statements and bounds a string only at its language ceiling of 512 Mi characters,
/// so without them one call allocates up to a gigabyte past any limit. Where the cost is known from the arguments
/// (<c>repeat</c>, <c>padStart</c>, <c>concat</c>) the guard checks it and hands the coerced arguments to Jint's
/// own; where it is only known while building (<c>join</c>, <c>String.raw</c>) the guard builds, paying for each
/// piece before it appends it; <c>replace</c>, <c>replaceAll</c> and <c>RegExp.prototype[Symbol.replace]</c> get a
/// replacement callback that pays for each match's replacement; <c>JSON.stringify</c> is metered by
/// <see cref="JsonBudget"/>. A refusal throws Jint's own MemoryLimitExceededException, which the script cannot catch and
/// the runtime reports as <c>memory_limit</c>. Constructors (ArrayBuffer,
/// typed arrays) cannot be made from C#: the host prelude guards those with the same budget.
/// </summary>
internal sealed class AllocationGuards
{
    private readonly Engine _engine;
    private readonly JobSlot _slot;
    private readonly JsValue _objectConstructor;
    private readonly ErrorConstructor _rangeError;

    // One set for join and toLocaleString, as Jint keeps one: an array that contains itself joins to "" there.
    private readonly HashSet<ObjectInstance> _joining = new(ReferenceEqualityComparer.Instance);

    private AllocationGuards(Engine engine, JobSlot slot)
    {
        _engine = engine;
        _slot = slot;
        _objectConstructor = engine.Global.Get("Object");
        _rangeError = (ErrorConstructor)engine.Global.Get("RangeError");
    }

    private delegate JsValue Guard(JsValue original, JsValue thisObject, JsValue[] arguments);

    /// <summary>Installs the guards; they draw on the budget of the execution the slot holds when they are called.</summary>
    public static void Install(Engine engine, JobSlot slot) => new AllocationGuards(engine, slot).Install();

    private AllocationBudget Budget => _slot.Budget;

    private void Install()
    {
        var engine = _engine;
        var global = engine.Global;
        var stringPrototype = PrototypeOf(global, "String");
        Replace(stringPrototype, "repeat", 1, (original, thisObject, arguments) => Repeat(original, thisObject, arguments));
        Replace(stringPrototype, "padStart", 1, (original, thisObject, arguments) => Pad("String.prototype.padStart", original, thisObject, arguments));
        Replace(stringPrototype, "padEnd", 1, (original, thisObject, arguments) => Pad("String.prototype.padEnd", original, thisObject, arguments));
        Replace(stringPrototype, "concat", 1, (original, thisObject, arguments) => Concat(original, thisObject, arguments));
        Replace((ObjectInstance)global.Get("String"), "raw", 1, (_, _, arguments) => Raw(arguments));

        var arrayPrototype = PrototypeOf(global, "Array");
        Replace(arrayPrototype, "join", 1, (_, thisObject, arguments) => Join(_joining, thisObject, arguments));
        Replace(arrayPrototype, "toLocaleString", 0, (_, thisObject, arguments) => ToLocaleString(thisObject, arguments));

        if (PrototypeOf(global, "Uint8Array").Prototype is { } typedArrayPrototype)
        {
            Replace(typedArrayPrototype, "join", 1, (original, thisObject, arguments) => TypedArrayJoin(original, thisObject, arguments));
        }

        if (global.Get("Iterator") is ObjectInstance iterator && iterator.Get("prototype") is ObjectInstance iteratorPrototype
            && iteratorPrototype.Get("toArray") is ObjectInstance toArray && toArray.IsCallable())
        {
            Replace(iteratorPrototype, "join", 1, (_, thisObject, arguments) => IteratorJoin(toArray, thisObject, arguments));
        }

        // A replacement is metered by a callback of ours in its place, which Jint calls for every match; the search
        // (a string, or a RegExp's own Symbol.replace) stays Jint's.
        Replace(stringPrototype, "replace", 2, (original, thisObject, arguments) => ReplaceMatches("String.prototype.replace", original, thisObject, arguments, 1));
        Replace(stringPrototype, "replaceAll", 2, (original, thisObject, arguments) => ReplaceMatches("String.prototype.replaceAll", original, thisObject, arguments, 1));
        var symbolReplace = ((ObjectInstance)global.Get("Symbol")).Get("replace");
        Replace(PrototypeOf(global, "RegExp"), symbolReplace, "[Symbol.replace]", 2, (original, thisObject, arguments) => ReplaceMatches("RegExp.prototype[Symbol.replace]", original, thisObject, arguments, 1));

        Replace((ObjectInstance)global.Get("JSON"), "stringify", 3, (original, _, arguments) => JsonBudget.Stringify(engine, Budget, original, arguments));
    }

    private static ObjectInstance PrototypeOf(ObjectInstance global, string constructor) =>
        (ObjectInstance)((ObjectInstance)global.Get(constructor)).Get("prototype");

    /// <summary>Puts a guard where the built-in was, with the built-in's name, length and property attributes; the guard receives the original.</summary>
    private void Replace(ObjectInstance target, string name, int length, Guard guard) => Replace(target, name, name, length, guard);

    private void Replace(ObjectInstance target, JsValue key, string name, int length, Guard guard)
    {
        var descriptor = target.GetOwnProperty(key);
        if (descriptor == PropertyDescriptor.Undefined || !descriptor.IsDataDescriptor() || !descriptor.Value.IsCallable())
        {
            return;
        }

        var original = descriptor.Value;
        var replacement = new ClrFunction(_engine, name, (thisObject, arguments) => guard(original, thisObject, arguments), length, PropertyFlag.Configurable);
        target.DefineOwnProperty(key, new PropertyDescriptor(replacement, descriptor.Writable, descriptor.Enumerable, descriptor.Configurable));
    }

    private JsValue Repeat(JsValue original, JsValue thisObject, JsValue[] arguments)
    {
        if (IsNullish(thisObject))
        {
            return _engine.Call(original, thisObject, arguments);
        }

        // Coerced once here and passed on as primitives: a toString or valueOf the script wrote runs once, and cannot
        // answer the check with one value and the built-in with another.
        var text = AsJsString(thisObject);
        var count = TypeConverter.ToIntegerOrInfinity(arguments.At(0));
        var length = count * text.Length;
        if (length > 0 && length <= AllocationBudget.MaxStringLength)
        {
            Budget.Reserve(AllocationBudget.BuiltString(length), "String.prototype.repeat");
        }

        return _engine.Call(original, text, [JsNumber.Create(count)]);
    }

    private JsValue Pad(string what, JsValue original, JsValue thisObject, JsValue[] arguments)
    {
        if (IsNullish(thisObject))
        {
            return _engine.Call(original, thisObject, arguments);
        }

        var text = AsJsString(thisObject);
        var maxLength = TypeConverter.ToLength(arguments.At(0));
        if (maxLength <= (ulong)text.Length)
        {
            // The filler is not even converted then.
            return text;
        }

        var filler = arguments.At(1).IsUndefined() ? JsString.Create(" ") : AsJsString(arguments.At(1));
        if (filler.Length > 0 && maxLength <= AllocationBudget.MaxStringLength)
        {
            Budget.Reserve(AllocationBudget.BuiltString(maxLength), what);
        }

        return _engine.Call(original, text, [JsNumber.Create((double)maxLength), filler]);
    }

    private JsValue Concat(JsValue original, JsValue thisObject, JsValue[] arguments)
    {
        if (IsNullish(thisObject))
        {
            return _engine.Call(original, thisObject, arguments);
        }

        var text = AsJsString(thisObject);
        var parts = new JsValue[arguments.Length];
        long length = text.Length;
        for (var i = 0; i < arguments.Length; i++)
        {
            var part = AsJsString(arguments[i]);
            parts[i] = part;
            length += part.Length;
        }

        if (length <= AllocationBudget.MaxStringLength)
        {
            Budget.Reserve(AllocationBudget.BuiltString(length), "String.prototype.concat");
        }

        return _engine.Call(original, text, parts);
    }

    /// <summary>
    /// Hands the built-in, in place of the replacement at <paramref name="index"/>, a callback that answers each match
    /// as the replacement would (the script's function, or https://tc39.es/ecma262/#sec-getsubstitution for a string)
    /// and adds what it answers up: a replacement repeats once a match, and <c>$'</c> repeats the rest of the string.
    /// </summary>
    private JsValue ReplaceMatches(string what, JsValue original, JsValue thisObject, JsValue[] arguments, int index)
    {
        if (IsNullish(thisObject) && what.StartsWith("String", StringComparison.Ordinal))
        {
            return _engine.Call(original, thisObject, arguments);
        }

        var replacement = arguments.At(index);
        var function = replacement.IsCallable() ? replacement : null;
        var template = function is null ? TypeConverter.ToString(replacement) : null;
        var available = Budget.Remaining;
        double replaced = 0;
        double length = 0;
        var callback = new ClrFunction(_engine, "", (_, match) =>
        {
            // (matched, captures..., position, string[, groups]): the position is the only number.
            var groups = match.Length >= 3 && match[^2] is not JsNumber;
            var text = match.At(match.Length - (groups ? 2 : 1));
            var answer = function is not null
                ? AsJsString(_engine.Call(function, JsValue.Undefined, match))
                : JsString.Create(Substitution(template!, match, groups));
            length = length == 0 ? TypeConverter.ToString(text).Length : length;
            replaced += answer.Length - TypeConverter.ToString(match.At(0)).Length;
            if (length + replaced > AllocationBudget.MaxStringLength)
            {
                throw new JavaScriptException(_rangeError, "Invalid string length");
            }

            if (AllocationBudget.BuiltString(replaced) > available || Budget.Remaining < 0)
            {
                throw Budget.Exceeded(what, AllocationBudget.BuiltString(length + replaced));
            }

            return answer;
        }, 1);
        // Copied element by element: Jint may pass an object[] typed as JsValue[], which Clone would keep.
        var forwarded = new JsValue[Math.Max(arguments.Length, index + 1)];
        for (var i = 0; i < forwarded.Length; i++)
        {
            forwarded[i] = i == index ? callback : arguments.At(i);
        }

        return _engine.Call(original, thisObject, forwarded);
    }

    /// <summary>https://tc39.es/ecma262/#sec-getsubstitution, from what a replacer function receives for the match.</summary>
    private string Substitution(string template, JsValue[] match, bool hasGroups)
    {
        var captureCount = match.Length - (hasGroups ? 4 : 3);
        var matched = TypeConverter.ToString(match.At(0));
        var position = (int)TypeConverter.ToNumber(match.At(captureCount + 1));
        var text = TypeConverter.ToString(match.At(captureCount + 2));
        var groups = hasGroups ? match[^1] : JsValue.Undefined;
        var result = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            var next = i + 1 < template.Length ? template[i + 1] : '\0';
            if (c != '$' || i + 1 == template.Length)
            {
                result.Append(c);
            }
            else if (next == '$')
            {
                result.Append('$');
                i++;
            }
            else if (next == '&')
            {
                result.Append(matched);
                i++;
            }
            else if (next == '`')
            {
                result.Append(text, 0, Math.Min(position, text.Length));
                i++;
            }
            else if (next == '\'')
            {
                var tail = Math.Min(position + matched.Length, text.Length);
                result.Append(text, tail, text.Length - tail);
                i++;
            }
            else if (char.IsAsciiDigit(next))
            {
                var digitCount = i + 2 < template.Length && char.IsAsciiDigit(template[i + 2]) ? 2 : 1;
                var number = int.Parse(template.AsSpan(i + 1, digitCount), System.Globalization.CultureInfo.InvariantCulture);
                if (number > captureCount && digitCount == 2)
                {
                    digitCount = 1;
                    number = next - '0';
                }

                if (number >= 1 && number <= captureCount)
                {
                    var capture = match[number];
                    result.Append(capture.IsUndefined() ? string.Empty : TypeConverter.ToString(capture));
                }
                else
                {
                    result.Append(template, i, 1 + digitCount);
                }

                i += digitCount;
            }
            else if (next == '<')
            {
                var close = template.IndexOf('>', i + 2);
                if (close < 0 || groups.IsUndefined())
                {
                    result.Append("$<");
                }
                else
                {
                    var capture = ToObject(groups).Get(template[(i + 2)..close]);
                    result.Append(capture.IsUndefined() ? string.Empty : TypeConverter.ToString(capture));
                    i = close - 1;
                }

                i++;
            }
            else
            {
                result.Append(c);
            }
        }

        return result.ToString();
    }

    /// <summary>https://tc39.es/ecma262/#sec-string.raw, built here: how often each piece repeats is the script's choice.</summary>
    private JsString Raw(JsValue[] arguments)
    {
        var cooked = ToObject(arguments.At(0));
        var literals = ToObject(cooked.Get("raw"));
        var count = TypeConverter.ToLength(literals.Get("length"));
        var result = new BudgetedText(this, "String.raw");
        for (ulong i = 0; i < count; i++)
        {
            result.Append(TypeConverter.ToString(literals.Get(JsNumber.Create((double)i))));
            if (i + 1 == count)
            {
                break;
            }

            if (i + 1 < (ulong)arguments.Length)
            {
                result.Append(TypeConverter.ToString(arguments[(int)i + 1]));
            }

            result.Tick(i);
        }

        return result.ToJsString();
    }

    /// <summary>
    /// https://tc39.es/ecma262/#sec-array.prototype.join, built here: its length is the array's times the separator's,
    /// and the elements may all be one large string, so only building it tells what it costs.
    /// </summary>
    private JsString Join(HashSet<ObjectInstance> joining, JsValue thisObject, JsValue[] arguments)
    {
        var array = ToObject(thisObject);
        var length = TypeConverter.ToLength(array.Get("length"));
        var separator = arguments.At(0).IsUndefined() ? "," : TypeConverter.ToString(arguments.At(0));
        if (length == 0 || !joining.Add(array))
        {
            return JsString.Empty;
        }

        try
        {
            var result = new BudgetedText(this, "Array.prototype.join");
            for (ulong k = 0; k < length; k++)
            {
                if (k > 0)
                {
                    result.Append(separator);
                }

                var element = array.Get(JsNumber.Create((double)k));
                if (!IsNullish(element))
                {
                    result.Append(TypeConverter.ToString(element));
                }

                result.Tick(k);
            }

            return result.ToJsString();
        }
        finally
        {
            joining.Remove(array);
        }
    }

    /// <summary>https://tc39.es/ecma262/#sec-array.prototype.tolocalestring, built here for the same reason as <see cref="Join"/>.</summary>
    private JsString ToLocaleString(JsValue thisObject, JsValue[] arguments)
    {
        var array = ToObject(thisObject);
        var length = TypeConverter.ToLength(array.Get("length"));
        if (length == 0 || !_joining.Add(array))
        {
            return JsString.Empty;
        }

        try
        {
            JsValue[] localeArguments = [arguments.At(0), arguments.At(1)];
            var result = new BudgetedText(this, "Array.prototype.toLocaleString");
            for (ulong k = 0; k < length; k++)
            {
                if (k > 0)
                {
                    result.Append(",");
                }

                var element = array.Get(JsNumber.Create((double)k));
                if (!IsNullish(element))
                {
                    var method = ToObject(element).Get("toLocaleString", element);
                    if (!method.IsCallable())
                    {
                        throw new JavaScriptException(_engine.Intrinsics.TypeError, "toLocaleString is not a function");
                    }

                    result.Append(TypeConverter.ToString(_engine.Call(method, element, localeArguments)));
                }

                result.Tick(k);
            }

            return result.ToJsString();
        }
        finally
        {
            _joining.Remove(array);
        }
    }

    /// <summary>
    /// A typed array's elements are numbers, so what its join costs is known before it starts: at least a character an
    /// element and the separator between each two.
    /// </summary>
    private JsValue TypedArrayJoin(JsValue original, JsValue thisObject, JsValue[] arguments)
    {
        if (thisObject is not JsTypedArray array)
        {
            return _engine.Call(original, thisObject, arguments);
        }

        var separator = arguments.At(0).IsUndefined() ? JsString.Create(",") : AsJsString(arguments.At(0));
        double length = array.Length;
        var chars = length + (Math.Max(0, length - 1) * separator.Length);
        if (chars <= AllocationBudget.MaxStringLength)
        {
            Budget.Reserve(AllocationBudget.BuiltString(chars), "%TypedArray%.prototype.join");
        }

        return _engine.Call(original, thisObject, [separator]);
    }

    /// <summary>
    /// Iterator.prototype.join (a proposal Jint implements), as the iterator's values collected by its own toArray and
    /// then joined: the values are all taken before the first is converted to a string, where Jint interleaves the two.
    /// </summary>
    private JsString IteratorJoin(JsValue toArray, JsValue thisObject, JsValue[] arguments)
    {
        if (thisObject is not ObjectInstance)
        {
            throw new JavaScriptException(_engine.Intrinsics.TypeError, "Iterator.prototype.join called on non-object");
        }

        var separator = arguments.At(0).IsUndefined() ? JsString.Create(",") : AsJsString(arguments.At(0));
        var values = _engine.Call(toArray, thisObject, []);
        return Join(new HashSet<ObjectInstance>(ReferenceEqualityComparer.Instance), values, [separator]);
    }

    /// <summary>https://tc39.es/ecma262/#sec-toobject, with the realm's own Object (Jint's ToObject wants its realm, which it keeps internal).</summary>
    private ObjectInstance ToObject(JsValue value) => value switch
    {
        ObjectInstance instance => instance,
        _ when IsNullish(value) => throw new JavaScriptException(_engine.Intrinsics.TypeError, "Cannot convert undefined or null to object"),
        _ => (ObjectInstance)_engine.Call(_objectConstructor, JsValue.Undefined, [value]),
    };

    private static bool IsNullish(JsValue value) => value.IsNull() || value.IsUndefined();

    private static JsString AsJsString(JsValue value) => value as JsString ?? JsString.Create(TypeConverter.ToString(value));

    /// <summary>A string a guard builds piece by piece, each piece paid for before it is appended.</summary>
    private sealed class BudgetedText(AllocationGuards guards, string what)
    {
        private readonly StringBuilder _text = new();

        public void Append(string piece)
        {
            if (piece.Length == 0)
            {
                return;
            }

            var length = (long)_text.Length + piece.Length;
            if (length > AllocationBudget.MaxStringLength)
            {
                throw new JavaScriptException(guards._rangeError, "Invalid string length");
            }

            // The builder's chunks so far are already counted; this piece is copied into it, and the whole once more
            // into the result.
            guards.Budget.Reserve((2.0 * piece.Length) + (2.0 * length), what);
            _text.Append(piece);
        }

        /// <summary>
        /// Every 10,000 elements, the engine's constraints, as Jint's own loops check them: an array-like of length
        /// 2^53 with an empty separator costs nothing to join but CPU.
        /// </summary>
        public void Tick(ulong index)
        {
            if (index % 10_000 == 9_999)
            {
                guards._engine.Constraints.Check();
            }
        }

        public JsString ToJsString() => _text.Length == 0 ? JsString.Empty : JsString.Create(_text.ToString());
    }
}
