using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace AgentSecurity.Sandbox.JavaScript;

/// <summary>
/// Meters one <c>JSON.stringify</c>: a document can repeat one large string or structure as often as a script likes,
/// and Jint's serializer builds it whole with no look at the memory limit. Jint's serializer calls a replacer function
/// for every value it is about to write, after <c>toJSON</c>; this is such a replacer, wrapped around the script's own,
/// that adds up at least how many characters each value will write and ends the execution with <c>memory_limit</c>
/// before the document outgrows the budget. It does the serializer's unwrapping of String, Number and Boolean objects
/// itself, so that what it measures is what gets written. A replacer array (a list of property names) becomes the
/// same selection, made here: each object is handed on as a copy with just those properties, read in the list's
/// order. That copy's properties are enumerated in the order objects keep (integer-like names first), and its values
/// are read before the first of them is serialized, where the serializer interleaves the two.
/// </summary>
internal sealed class JsonBudget
{
    private readonly Engine _engine;
    private readonly AllocationBudget _budget;
    private readonly JsValue? _replacer;
    private readonly List<JsValue>? _propertyList;
    private readonly int _gap;
    private readonly double _available;
    private readonly Dictionary<ObjectInstance, int> _depth = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ObjectInstance, (ObjectInstance? Parent, ObjectInstance Source)> _selections = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ObjectInstance, ObjectInstance> _parents = new(ReferenceEqualityComparer.Instance);
    private readonly JsValue _isRawJson;
    private bool _root = true;
    private double _chars;

    private JsonBudget(Engine engine, AllocationBudget budget, JsValue? replacer, List<JsValue>? propertyList, int gap, JsValue isRawJson)
    {
        _engine = engine;
        _budget = budget;
        _replacer = replacer;
        _propertyList = propertyList;
        _gap = gap;
        _isRawJson = isRawJson;
        _available = budget.Remaining;
    }

    public static JsValue Stringify(Engine engine, AllocationBudget budget, JsValue original, JsValue[] arguments)
    {
        var value = arguments.At(0);
        var replacer = arguments.At(1);
        var space = arguments.At(2);
        var propertyList = replacer.IsArray() ? PropertyList(engine, (ObjectInstance)replacer) : null;
        var json = (ObjectInstance)engine.Global.Get("JSON");
        var meter = new JsonBudget(engine, budget, replacer.IsCallable() ? replacer : null, propertyList, Gap(space), json.Get("isRawJSON"));
        var hook = new ClrFunction(engine, "", (holder, hookArguments) => meter.Visit(holder, hookArguments.At(0), hookArguments.At(1)), 2);
        return engine.Call(original, JsValue.Undefined, [value, hook, space]);
    }

    /// <summary>https://tc39.es/ecma262/#sec-json.stringify, steps 4.b: the names a replacer array selects, in order, once each.</summary>
    private static List<JsValue> PropertyList(Engine engine, ObjectInstance replacer)
    {
        var names = new List<JsValue>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var length = TypeConverter.ToLength(replacer.Get("length"));
        for (ulong k = 0; k < length; k++)
        {
            var element = replacer.Get(JsNumber.Create((double)k));
            var named = element is JsString or JsNumber || (element is ObjectInstance && element is IJsPrimitive { Type: Types.String or Types.Number });
            if (named && seen.Add(TypeConverter.ToString(element)))
            {
                names.Add(JsString.Create(TypeConverter.ToString(element)));
            }

            if (k % 10_000 == 9_999)
            {
                engine.Constraints.Check();
            }
        }

        return names;
    }

    /// <summary>The indentation's length per level, or 0 where only converting <c>space</c> would tell (a lower bound, as everything here is).</summary>
    private static int Gap(JsValue space) => space switch
    {
        JsNumber number => (int)Math.Clamp(TypeConverter.ToIntegerOrInfinity(number), 0, 10),
        JsString text => Math.Min(10, text.Length),
        _ => 0,
    };

    private JsValue Visit(JsValue holder, JsValue key, JsValue value)
    {
        if (_replacer is not null)
        {
            value = _engine.Call(_replacer, holder, [key, value]);
        }

        if (value is ObjectInstance && value is IJsPrimitive wrapper)
        {
            value = wrapper.Type switch
            {
                Types.String => JsString.Create(TypeConverter.ToString(value)),
                Types.Number => JsNumber.Create(TypeConverter.ToNumber(value)),
                Types.Boolean => wrapper.PrimitiveValue,
                _ => value,
            };
        }

        var written = Written(value, out var container);
        var holderObject = holder as ObjectInstance;
        var root = _root;
        _root = false;
        if (!root && holderObject is not null && (written >= 0 || holderObject.IsArray()))
        {
            // A member: the comma before it, and on a line of its own with an indentation per level when indenting.
            var depth = _depth.GetValueOrDefault(holderObject, 1);
            _chars += 1 + (_gap > 0 ? 1 + ((double)_gap * depth) : 0);
            if (!holderObject.IsArray())
            {
                _chars += Quoted(TypeConverter.ToString(key)) + 1 + (_gap > 0 ? 1 : 0);
            }
        }

        _chars += Math.Max(0, written);
        if (AllocationBudget.BuiltString(_chars) > _available || _budget.Remaining < 0)
        {
            throw _budget.Exceeded("JSON.stringify", AllocationBudget.BuiltString(_chars));
        }

        if (container is null)
        {
            return value;
        }

        _depth[container] = (holderObject is null ? 0 : _depth.GetValueOrDefault(holderObject, 0)) + 1;
        if (_propertyList is null || container.IsArray())
        {
            if (holderObject is not null)
            {
                _parents[container] = holderObject;
            }

            return value;
        }

        var selection = Select(container, holderObject);
        _depth[selection] = _depth[container];
        return selection;
    }

    /// <summary>
    /// At least how many characters <paramref name="value"/> writes itself, without what it contains (each contained
    /// value comes through <see cref="Visit"/> in turn); -1 when it writes nothing (undefined, a function, a symbol).
    /// </summary>
    private double Written(JsValue value, out ObjectInstance? container)
    {
        container = null;
        switch (value)
        {
            case JsString text:
                return Quoted(text.ToString());
            case JsNumber number:
                return double.IsFinite(number.AsNumber()) ? number.ToString().Length : 4;
            case JsBoolean flag:
                return flag.AsBoolean() ? 4 : 5;
            case ObjectInstance when value.IsCallable():
                return -1;
            case ObjectInstance rawJson when _isRawJson.IsCallable() && TypeConverter.ToBoolean(_engine.Call(_isRawJson, JsValue.Undefined, [rawJson])):
                // JSON.rawJSON text, written as it is.
                var raw = rawJson.GetOwnProperty("rawJSON");
                return raw.IsDataDescriptor() && raw.Value is JsString rawText ? rawText.Length : 1;
            case ObjectInstance structure:
                container = structure;
                return 2;
            default:
                // null writes "null"; undefined and symbols write nothing; a BigInt makes the serializer throw.
                return value.IsNull() ? 4 : value.IsBigInt() ? 0 : -1;
        }
    }

    /// <summary>
    /// The object the serializer writes in place of <paramref name="source"/> under a replacer array: the selected
    /// properties it has a value for. A structure that contains itself is refused as the serializer refuses it: the
    /// copy is new at every level, so the serializer's own check cannot see the cycle.
    /// </summary>
    private JsObject Select(ObjectInstance source, ObjectInstance? holder)
    {
        for (var ancestor = holder; ancestor is not null;)
        {
            var origin = _selections.TryGetValue(ancestor, out var selected) ? selected.Source : ancestor;
            if (ReferenceEquals(origin, source))
            {
                throw new JavaScriptException(_engine.Intrinsics.TypeError, "Cannot serialize a cyclic structure to JSON");
            }

            ancestor = _selections.TryGetValue(ancestor, out selected) ? selected.Parent : _parents.GetValueOrDefault(ancestor);
        }

        var selection = new JsObject(_engine);
        foreach (var name in _propertyList!)
        {
            var value = source.Get(name);
            if (!value.IsUndefined())
            {
                selection.CreateDataProperty(name, value);
            }
        }

        _selections[selection] = (holder, source);
        return selection;
    }

    /// <summary>The characters <paramref name="text"/> takes as a JSON string: quotes, and the escapes of JSON.stringify.</summary>
    private static double Quoted(string text)
    {
        double length = 2 + text.Length;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '"' or '\\' or '\b' or '\f' or '\n' or '\r' or '\t')
            {
                length += 1;
            }
            else if (c < 0x20)
            {
                length += 5;
            }
            else if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    i++;
                }
                else
                {
                    length += 5;
                }
            }
        }

        return length;
    }
}
